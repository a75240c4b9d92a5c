# This file is part of the water_utility module.  See README.rst.
"""Pure rules of the subscribers' opinion surveys (charter point 13)

A satisfaction score is an integer from 1 (very dissatisfied) to 5 (very
satisfied); a subscriber who gives 4 or 5 is satisfied.  The figures the
manager reads are ratios of counts and sums, so that they add up over
months, areas and request types: the average is the sum of the scores over
the answers, the satisfied share the answers of 4 or 5 over the answers, the
response rate the answers over the surveys called (answered, declined or
unreachable; those still to call do not count).  An answer to a field
survey's question is valid when its value fits the question's kind.
Nothing here knows the ORM: tests/test_survey.py proves the rules for any
input.
"""
LOWEST, HIGHEST = 1, 5
SCORES = range(LOWEST, HIGHEST + 1)
SATISFIED = 4

SCORE = 'score'
YES_NO = 'yes_no'
CHOICE = 'choice'
TEXT = 'text'
YES, NO = 'yes', 'no'


def valid_score(score):
    "Whether score is a score from 1 to 5"
    return (isinstance(score, int) and not isinstance(score, bool)
        and LOWEST <= score <= HIGHEST)


def satisfied(score):
    "Whether the score is of a satisfied subscriber: 4 or 5"
    return score is not None and score >= SATISFIED


def ratio(part, whole):
    "part / whole as a float, None when there is nothing to divide"
    if not whole:
        return None
    return part / whole


def average(total, count):
    "The average of count scores summing to total, None without any"
    return ratio(total or 0, count)


def satisfied_share(satisfied_count, answered):
    "The share of the answers that are 4 or 5"
    return ratio(satisfied_count or 0, answered)


def response_rate(answered, called):
    "The share of the surveys called that were answered"
    return ratio(answered or 0, called)


def summary(scores):
    """(count, total, satisfied count) of the scores: the sums the results
    store, from which average and satisfied_share are computed"""
    scores = [s for s in scores if s is not None]
    return (len(scores), sum(scores), sum(1 for s in scores if satisfied(s)))


def options(text):
    "The options of a choice question: its non-empty lines, once each"
    result = []
    for line in (text or '').splitlines():
        line = line.strip()
        if line and line not in result:
            result.append(line)
    return result


def answered(kind, value):
    "Whether value is an answer: a score, yes or no, a choice, some text"
    if value is None:
        return False
    if kind == TEXT or kind == CHOICE:
        return bool(str(value).strip())
    return True


def answer_error(kind, value, choices=(), required=False):
    """Why value does not answer a question of kind, or None when it does

    'required' for a required question left unanswered, 'score' for a score
    out of 1 to 5, 'yes_no' for anything but yes or no, 'choice' for a
    value that is not one of the choices."""
    if not answered(kind, value):
        return 'required' if required else None
    if kind == SCORE and not valid_score(value):
        return 'score'
    if kind == YES_NO and value not in {YES, NO}:
        return 'yes_no'
    if kind == CHOICE and value not in list(choices):
        return 'choice'
    return None
