"""Discount codes for the embedded demo store, which has no real platform behind it.

The demo store stands in for a Saleor shop that does not exist, so its codes live only in the
emails relance sends: the provider accepts every request and returns the requested code. Real
Saleor stores use :class:`relance.plugin.saleor.discounts.SaleorDiscountProvider`.
"""

from __future__ import annotations

from relance.discounts import DiscountRequest, IssuedDiscount, PlatformAccess


class DemoDiscountProvider:
    """Issues the requested code without calling anything (idempotent by construction)."""

    def create(self, access: PlatformAccess, request: DiscountRequest) -> IssuedDiscount:
        return IssuedDiscount(code=request.code, platform_id=None)
