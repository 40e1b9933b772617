"""Money: an integer amount in the currency's minor units and an ISO 4217 code, never a float.

Most currencies have 2 decimals; the table lists those that do not (ISO 4217's minor unit
column). Conversions go through `Decimal`, so 0.1 + 0.2 never turns into 0.30000000000000004
on the way to a price.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from app.domain.base import DomainError

EXPONENTS = {
    # No minor unit.
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # Three decimals.
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
DEFAULT_EXPONENT = 2


class MoneyError(DomainError):
    code = "bad_amount"


def exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has."""
    return EXPONENTS.get(currency.upper(), DEFAULT_EXPONENT)


def to_minor(amount: str, currency: str) -> int:
    """'12.50' (or '12,50') in `currency` to minor units (1250). Refuses what is not a plain
    non-negative amount, or has more decimals than the currency."""
    try:
        value = Decimal(amount.strip().replace(",", "."))
    except InvalidOperation:
        raise MoneyError("Enter an amount like 12.50.") from None
    if not value.is_finite() or value < 0:
        raise MoneyError("Enter an amount like 12.50.")
    minor = value.scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise MoneyError(f"{currency.upper()} has at most {exponent(currency)} decimals.")
    return int(minor)


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    """Minor units as a decimal amount of the currency: 1250 USD -> Decimal('12.50')."""
    places = exponent(currency)
    return Decimal(amount_minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def format_amount(amount_minor: int, currency: str) -> str:
    """The plain amount, as a form field or structured data shows it: '12.50'."""
    return str(to_decimal(amount_minor, currency))


def format_money(amount_minor: int | None, currency: str = "USD") -> str:
    """As a buyer reads it: 'USD 1,234.50', 'Free' for nothing, '' for no amount at all."""
    if amount_minor is None:
        return ""
    if amount_minor == 0:
        return "Free"
    return f"{currency} {to_decimal(amount_minor, currency):,}"
