"""The sandbox's world (the rails, a technology firm, both regulators, tokens) serves the hall's tests too."""

from tests.payments.conftest import make_rails as make_rails
from tests.sandbox.conftest import settings as settings
from tests.sandbox.conftest import world as world
