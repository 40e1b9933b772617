"""Logs, metrics, traces and error reports (README: "Operations / monitoring")."""
