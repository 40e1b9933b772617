"""Payments on the web: paying, the return page, receipts, provider webhooks, the demo checkout."""
