"""One module per outside party (mail, payment providers, SMS, storage)."""
