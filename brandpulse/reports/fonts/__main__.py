"""``python -m brandpulse.reports.fonts``: rebuild the CJK subset font (needs manimgx-fonts-cjk)."""

from brandpulse.reports.fonts import build_cjk_subset

print(build_cjk_subset())
