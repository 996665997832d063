"""The five roles a user can hold; what each may do is decided in brandpulse.services.access."""

ROLES = ("admin", "marketing", "care_agent", "care_lead", "brand_manager")

# roles that may hold a ticket (be its assignee)
CARE_ROLES = ("care_agent", "care_lead", "admin")
