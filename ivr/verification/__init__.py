"""The truth the hotline checks: merchants and locks, outreach and codes, reports and the watchlist."""
