"""Services: the rules and role checks that the dashboard, the CLI and the API all call."""
