# This file is part of the water_utility module.  See README.rst.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class AreaRouteError(ValidationError):
    pass


class CategoryError(ValidationError):
    pass


class SubscriptionStateError(UserError):
    pass


class SubscriptionDeleteError(AccessError):
    pass


class MeterReadingError(ValidationError):
    pass


class MeterInstallationError(ValidationError):
    pass


class MeterStateError(UserError):
    pass


class IdentifierError(ValidationError):
    pass


class WorkingHourError(ValidationError):
    pass


class NewConnectionError(UserError):
    pass


class ReadingError(UserError):
    pass


class ReadingPeriodError(UserError):
    pass


class ReadingImportError(UserError):
    pass


class TariffError(ValidationError):
    pass


class TariffVersionBilledError(AccessError):
    pass


class BillingError(UserError):
    pass


class BillError(UserError):
    pass


class PaymentError(UserError):
    pass


class CashSessionError(UserError):
    pass


class BankImportError(UserError):
    pass


class CollectionError(UserError):
    pass


class SettlementError(UserError):
    pass


class RewardError(UserError):
    pass


class RequestError(UserError):
    pass


class SurveyError(UserError):
    pass


class SurveyValidationError(ValidationError):
    pass


class QueueError(UserError):
    pass


class InspectionError(UserError):
    pass


class ViolationError(UserError):
    pass


class MaintenanceCycleError(ValidationError):
    pass
