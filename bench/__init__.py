"""Benchmark and load scripts for the hotline (see README "Performance")."""
