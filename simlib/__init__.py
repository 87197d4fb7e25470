"""Planning study for the Maojiawan (卯家湾) resettlement: population, moving, jobs, reports."""

__version__ = "0.1.0"
