"""sociability: how social is an account, really?

Label posts as self-promotion, vanity retweets, personal sharing or genuine conversation, and
profile whole timelines.
"""

from __future__ import annotations

from .errors import FeedError, SociabilityError
from .feeds import FORMATS, FeedResult, Reject, detect_format, iter_feed, read_feed, read_feeds
from .posts import COLUMNS

__version__ = "0.1.0"

__all__ = [
    "COLUMNS",
    "FORMATS",
    "FeedError",
    "FeedResult",
    "Reject",
    "SociabilityError",
    "detect_format",
    "iter_feed",
    "read_feed",
    "read_feeds",
]

from .model import LABELS, SociabilityClassifier, predict_posts  # noqa: E402
from .persistence import LoadedModel, load_model, save_model  # noqa: E402

__all__ += ["LABELS", "LoadedModel", "SociabilityClassifier", "load_model", "predict_posts", "save_model"]
from .profiles import Comparison, Interval, Profile, compare, profile  # noqa: E402

__all__ += ["Comparison", "Interval", "Profile", "compare", "profile"]
