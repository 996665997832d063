"""The store: the only code in brandpulse that talks SQL."""
