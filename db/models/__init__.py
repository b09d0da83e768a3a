"""Import every model so that the metadata knows all tables."""

from db.models.area import Area, AreaLevel, FormerArea, FormerAreaLevel, former_area_successor
from db.models.broadcast import (
    FINAL_DELIVERY,
    PENDING_DELIVERY,
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
)
from db.models.cooperative import Cooperative, CooperativeKind
from db.models.link import LinkCode, OAuthToken
from db.models.member import (
    Channel,
    Consent,
    Feedback,
    FeedbackStatus,
    Role,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
)
from db.models.meta import MetaValue
from db.models.staff import Staff, StaffRole

__all__ = [
    "FINAL_DELIVERY",
    "PENDING_DELIVERY",
    "Area",
    "AreaLevel",
    "Broadcast",
    "BroadcastStatus",
    "Channel",
    "Consent",
    "Cooperative",
    "CooperativeKind",
    "Delivery",
    "DeliveryStatus",
    "Feedback",
    "FeedbackStatus",
    "FormerArea",
    "FormerAreaLevel",
    "LinkCode",
    "MetaValue",
    "OAuthToken",
    "Role",
    "Staff",
    "StaffRole",
    "Subscriber",
    "SubscriberStatus",
    "SubscriberTopic",
    "Topic",
    "former_area_successor",
]
