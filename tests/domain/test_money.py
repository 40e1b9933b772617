"""Money in minor units: parsing, formatting, and each currency's decimals, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain import money


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "USD", 1250),
        ("12,5", "EUR", 1250),
        ("0.10", "USD", 10),
        ("0.3", "USD", 30),  # 0.1 + 0.2 as a float would not be
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("0", "USD", 0),
    ],
)
def test_to_minor(text: str, currency: str, minor: int) -> None:
    assert money.to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1.234", "USD", "USD has at most 2 decimals."),
        ("10.5", "JPY", "JPY has at most 0 decimals."),
        ("-1", "USD", "Enter an amount like 12.50."),
        ("abc", "USD", "Enter an amount like 12.50."),
        ("NaN", "USD", "Enter an amount like 12.50."),
        ("", "USD", "Enter an amount like 12.50."),
    ],
)
def test_to_minor_refuses(text: str, currency: str, message: str) -> None:
    with pytest.raises(money.MoneyError, match=message):
        money.to_minor(text, currency)


def test_formatting() -> None:
    assert money.format_money(123450, "USD") == "USD 1,234.50"
    assert money.format_money(1500, "JPY") == "JPY 1,500"
    assert money.format_money(1234, "KWD") == "KWD 1.234"
    assert money.format_money(0, "USD") == "Free"
    assert money.format_money(None) == ""
    assert money.format_amount(1250, "EUR") == "12.50"
    assert money.to_decimal(5, "usd") == Decimal("0.05")
