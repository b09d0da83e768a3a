"""Import every model so that the metadata knows all tables."""

from db.models.area import Area, AreaLevel, FormerArea, FormerAreaLevel, former_area_successor
from db.models.cooperative import Cooperative, CooperativeKind
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
    "Area",
    "AreaLevel",
    "Channel",
    "Consent",
    "Cooperative",
    "CooperativeKind",
    "Feedback",
    "FeedbackStatus",
    "FormerArea",
    "FormerAreaLevel",
    "MetaValue",
    "Role",
    "Staff",
    "StaffRole",
    "Subscriber",
    "SubscriberStatus",
    "SubscriberTopic",
    "Topic",
    "former_area_successor",
]
