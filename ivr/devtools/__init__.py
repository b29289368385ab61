"""Demo data for trying the hotline and measuring the dashboard."""
