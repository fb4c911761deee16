"""Kubernetes resource quantities ("500m", "16Gi", "4")."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIXES = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)", re.ASCII)
MAX_QUANTITY = Decimal(2**63)


def parse_quantity(value: object) -> Decimal:
    """Parse a quantity into a Decimal in base units; raises ValueError when malformed."""
    if isinstance(value, int | float):
        number = Decimal(str(value))
        if not number.is_finite() or abs(number) > MAX_QUANTITY:
            raise ValueError(f"quantity {value!r} is too large")
        return number
    text = str(value).strip()
    match = _QUANTITY.fullmatch(text)
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(
            f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}"
        )
    try:
        result = Decimal(match.group(1)) * _SUFFIXES[match.group(2)]
    except (InvalidOperation, ArithmeticError) as exc:
        raise ValueError(f"invalid quantity {text!r}") from exc
    if not result.is_finite() or abs(result) > MAX_QUANTITY:
        # The API server's Quantity holds an int64 scaled value; anything larger does not parse.
        raise ValueError(f"quantity {text!r} is too large")
    return result
