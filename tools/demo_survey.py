"""The subscribers' opinion in the demo database (charter point 13).

A field survey campaign about the water service, in the first two service
areas, with four questions (a score, yes or no, a choice and a remark) and
some thirty households answered per area; and the satisfaction surveys of
the requests closed, called: most answered (mostly satisfied), some
declined, some unreachable.  Both functions run inside a transaction, with
the company in the context, like those of demo_collection.
"""
import datetime as dt
import random

CAMPAIGN = "رأي المشتركين في خدمة المياه"
QUESTIONS = [
    ("ما تقييمك لخدمة المياه بشكل عام؟", 'score', None, True),
    ("هل تصل المياه إلى منزلك يومياً؟", 'yes_no', None, True),
    ("في أي وقت تصل المياه عادة؟", 'choice', "صباحاً\nظهراً\nمساءً\nليلاً",
        True),
    ("ملاحظات أخرى", 'text', None, False),
    ]
REMARKS = [
    "الضغط ضعيف في الطوابق العليا",
    "نرجو إرسال الفاتورة بالرسائل النصية",
    "الموظفون متعاونون",
    None, None, None,
    ]
COMMENTS = [
    "حضر الفريق بسرعة",
    "تأخر الرد ولكن المشكلة حُلّت",
    "ما زالت المشكلة قائمة",
    "خدمة ممتازة",
    None, None,
    ]
# most subscribers are satisfied
SCORE_WEIGHTS = {1: 1, 2: 2, 3: 4, 4: 8, 5: 6}


def setup_campaign(today, households=30, seed=0):
    """The campaign of the last month in the first two areas, open, with
    its responses done; return the number of responses (0 when the
    campaign exists)"""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Area = pool.get('water.area')
    Campaign = pool.get('water.survey.campaign')
    Response = pool.get('water.survey.response')
    Subscription = pool.get('water.subscription')
    if Campaign.search([('name', '=', CAMPAIGN)]):
        return 0
    rng = random.Random(seed)
    company = Transaction().context.get('company')
    areas = Area.search([('company', '=', company)], limit=2)
    if not areas:
        return 0
    end = today.replace(day=1) - dt.timedelta(days=1)
    campaign, = Campaign.create([{
                'company': company,
                'name': CAMPAIGN,
                'start_date': end.replace(day=1),
                'end_date': end,
                'areas': [('add', [a.id for a in areas])],
                'questions': [('create', [{
                                'sequence': i,
                                'text': text,
                                'kind': kind,
                                'options': options,
                                'required': required,
                                } for i, (text, kind, options, required)
                            in enumerate(QUESTIONS, 1)])],
                }])
    Campaign.open([campaign])
    days = (end - end.replace(day=1)).days
    vlist = []
    for area in areas:
        subscriptions = Subscription.search(
            [('area', '=', area.id)], limit=households * 3)
        for subscription in rng.sample(
                subscriptions, min(households, len(subscriptions))):
            vlist.append({
                    'company': company,
                    'campaign': campaign.id,
                    'area': area.id,
                    'subscription': subscription.id,
                    'respondent': subscription.party.name,
                    'date': end - dt.timedelta(days=rng.randint(0, days)),
                    'answers': [('create', [
                                _answer(q, rng) for q in campaign.questions
                                ])],
                    })
    responses = Response.create(vlist)
    Response.done(responses)
    return len(responses)


def _answer(question, rng):
    value = {'question': question.id}
    if question.kind == 'score':
        value['score'] = _score(rng)
    elif question.kind == 'yes_no':
        value['yes_no'] = 'yes' if rng.random() < 0.7 else 'no'
    elif question.kind == 'choice':
        value['choice'] = rng.choice(question.choices)
    else:
        value['text'] = rng.choice(REMARKS)
    return value


def _score(rng):
    scores = list(SCORE_WEIGHTS)
    return rng.choices(scores, weights=[SCORE_WEIGHTS[s] for s in scores])[0]


def call_surveys(seed=0, answered=0.7, declined=0.1):
    """Call the satisfaction surveys to call: a share answered, a share
    declined, the rest unreachable; return the counts by outcome"""
    from trytond.pool import Pool
    Satisfaction = Pool().get('water.survey.satisfaction')
    rng = random.Random(seed)
    surveys = Satisfaction.search([('state', '=', 'pending')])
    outcomes = {'answered': [], 'declined': [], 'unreachable': []}
    for survey in surveys:
        draw = rng.random()
        if draw < answered:
            outcomes['answered'].append(survey)
        elif draw < answered + declined:
            outcomes['declined'].append(survey)
        else:
            outcomes['unreachable'].append(survey)
    to_write = []
    for survey in outcomes['answered']:
        to_write.extend(([survey], {
                    'score': _score(rng),
                    'comment': rng.choice(COMMENTS),
                    }))
    if to_write:
        Satisfaction.write(*to_write)
    Satisfaction.answer(outcomes['answered'])
    Satisfaction.decline(outcomes['declined'])
    Satisfaction.unreachable(outcomes['unreachable'])
    return {k: len(v) for k, v in outcomes.items()}
