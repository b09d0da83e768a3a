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
from db.models.campaign import (
    Campaign,
    CampaignFiring,
    CampaignKind,
    CampaignStatus,
    FiringOutcome,
    SchedulerLease,
)
from db.models.content import ContentItem
from db.models.cooperative import Cooperative, CooperativeKind
from db.models.feedback import Poll, PollAnswer, PollStatus, Reaction, ReactionValue
from db.models.link import LinkCode, OAuthToken
from db.models.member import (
    Channel,
    Consent,
    Feedback,
    FeedbackKind,
    FeedbackReply,
    FeedbackStatus,
    Role,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
)
from db.models.meta import MetaValue
from db.models.ocop import OcopProduct, OcopTap
from db.models.ops import RateBucket, SeenUpdate
from db.models.staff import AuditEntry, Staff, StaffRole
from db.models.training import (
    CourseStatus,
    RegistrationStatus,
    TrainingCourse,
    TrainingRegistration,
    TrainingTopic,
)

__all__ = [
    "FINAL_DELIVERY",
    "PENDING_DELIVERY",
    "Area",
    "AreaLevel",
    "AuditEntry",
    "Broadcast",
    "BroadcastStatus",
    "Campaign",
    "CampaignFiring",
    "CampaignKind",
    "CampaignStatus",
    "Channel",
    "Consent",
    "ContentItem",
    "Cooperative",
    "CooperativeKind",
    "CourseStatus",
    "Delivery",
    "DeliveryStatus",
    "Feedback",
    "FeedbackKind",
    "FeedbackReply",
    "FeedbackStatus",
    "FiringOutcome",
    "FormerArea",
    "FormerAreaLevel",
    "LinkCode",
    "MetaValue",
    "OAuthToken",
    "OcopProduct",
    "OcopTap",
    "Poll",
    "PollAnswer",
    "PollStatus",
    "RateBucket",
    "Reaction",
    "ReactionValue",
    "RegistrationStatus",
    "Role",
    "SchedulerLease",
    "SeenUpdate",
    "Staff",
    "StaffRole",
    "Subscriber",
    "SubscriberStatus",
    "SubscriberTopic",
    "Topic",
    "TrainingCourse",
    "TrainingRegistration",
    "TrainingTopic",
    "former_area_successor",
]
