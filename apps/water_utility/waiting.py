# This file is part of the water_utility module.  See README.rst.
"""Pure rules of the service centres' front-desk queue (charter point 1)

A ticket's number is a letter for the service and a number that restarts
every day at each centre: "A-012" is the twelfth payment ticket of the day.
The day is the centre's local day.  Waiting time (called − arrived) and
service time (end − start) are calendar time; the manager reads their
average, 90th percentile and maximum.  Nothing here knows the ORM:
tests/test_queue.py proves the rules for any input.
"""
import datetime as dt
from zoneinfo import ZoneInfo

from .sla import percentile

SERVICES = [
    ('payment', "Payment"),
    ('account', "Account Request or Enquiry"),
    ('technical', "Technical Complaint"),
    ('connection', "New Connection"),
    ('other', "Other"),
    ]
# Latin letters: the board, the ticket and the clerk's voice read them alike
# in Arabic and English, and they never turn a number's direction around.
PREFIXES = {
    'payment': 'A',
    'account': 'B',
    'technical': 'C',
    'connection': 'D',
    'other': 'E',
    }
WIDTH = 3
UTC = ZoneInfo('UTC')


def ticket_number(service, sequence):
    "The number shown on the ticket: the service's letter and the sequence"
    return f'{PREFIXES[service]}-{sequence:0{WIDTH}d}'


def parse_number(number):
    "The service and the sequence of a ticket number"
    prefix, sequence = number.split('-', 1)
    services = {p: s for s, p in PREFIXES.items()}
    return services[prefix], int(sequence)


def next_sequence(used):
    "The next sequence after the used ones of a centre, day and service"
    return max(used, default=0) + 1


def local_day(instant, tz=None):
    "The centre's day of a naive UTC instant (tz the centre's time zone)"
    if tz is not None:
        instant = instant.replace(tzinfo=UTC).astimezone(tz)
    return instant.date()


def serves(counter_services, service):
    "Whether a counter serving counter_services (none: all) takes service"
    return not counter_services or service in counter_services


def oldest(tickets, counter_services=()):
    """The ticket a counter calls next among the waiting ones

    tickets: (arrived, id, service) of the centre's waiting tickets; the
    first arrived (then the first issued) of the services it serves."""
    candidates = [t for t in tickets if serves(counter_services, t[2])]
    return min(candidates, default=None)


def ahead(tickets, arrived, id_):
    """How many of the waiting (arrived, id) tickets are before the ticket
    that arrived at arrived with id id_"""
    return sum(1 for t in tickets if t < (arrived, id_))


def duration(start, end):
    """The calendar time from start to end to the second, None until both
    are known"""
    if start is None or end is None:
        return None
    seconds = round((end - start).total_seconds())
    return dt.timedelta(seconds=max(seconds, 0))


def average(durations):
    "The mean of the durations to the second, None when there is none"
    durations = [d for d in durations if d is not None]
    if not durations:
        return None
    total = sum(durations, dt.timedelta(0))
    return dt.timedelta(seconds=round(total.total_seconds() / len(durations)))


def summary(durations):
    """Count, average, 90th percentile and maximum of the known durations
    (the percentile and the maximum None when there is none)"""
    durations = [d for d in durations if d is not None]
    return {
        'count': len(durations),
        'average': average(durations),
        'p90': percentile(durations, 90),
        'maximum': max(durations, default=None),
        }
