"""SQLAlchemy models: one aggregate per module."""

from relance.store.models.api_token import ApiToken
from relance.store.models.base import Base, utcnow
from relance.store.models.campaign import Campaign, CampaignStatus, CampaignVersion, VersionStatus
from relance.store.models.checkout import Checkout, CheckoutStatus
from relance.store.models.contact import Contact, ListMember, Purchase
from relance.store.models.enrollment import Enrollment, EnrollmentStatus, TraceRecord
from relance.store.models.event import Event, EventStatus
from relance.store.models.message import Message, MessageStatus
from relance.store.models.push import PushSubscription
from relance.store.models.store import Store, StoreKind, StoreStatus

__all__ = [
    "ApiToken",
    "Base",
    "Campaign",
    "CampaignStatus",
    "CampaignVersion",
    "Checkout",
    "CheckoutStatus",
    "Contact",
    "Enrollment",
    "EnrollmentStatus",
    "Event",
    "EventStatus",
    "ListMember",
    "Message",
    "MessageStatus",
    "Purchase",
    "PushSubscription",
    "Store",
    "StoreKind",
    "StoreStatus",
    "TraceRecord",
    "VersionStatus",
    "utcnow",
]
