"""Services outside care re-read the user too: a stale Actor keeps no right it lost."""

from __future__ import annotations

import pytest

from brandpulse.services.accounts import change_user, create_user
from brandpulse.services.alerting import acknowledge
from brandpulse.core.errors import AccessDeniedError


def test_a_demoted_users_old_actor_cannot_acknowledge_alerts(settings, database_url):
    create_user(settings, None, "root", "a long secret", "admin")
    marketer = create_user(settings, None, "mia", "a long secret", "marketing")
    change_user(settings, None, marketer.id, role="care_agent", team="care")
    with pytest.raises(AccessDeniedError, match="may not alert acknowledge"):
        acknowledge(settings, marketer, 1)  # the Actor object still says "marketing"
    change_user(settings, None, marketer.id, role="marketing", active=False)
    with pytest.raises(AccessDeniedError, match="no longer an active user"):
        acknowledge(settings, marketer, 1)
