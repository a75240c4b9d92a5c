# This file is part of the water_utility module.  See README.rst.
"""Subscribers' opinion surveyed (charter point 13)

Two kinds of survey.  When a request or complaint is closed, a satisfaction
survey waits for the complaints officer, who calls the subscriber (or the
subscriber answers on the portal): a score from 1 to 5 and a comment, or
the subscriber declined or could not be reached.  The survey keeps the
request's type and area, so that the manager reads the satisfaction per
area and per type of request, month by month.

Field survey campaigns ask the subscribers of some areas the questions the
manager writes: a score, yes or no, a choice among options, or free text.
Inspectors and officers record the responses, one per household met, with
an answer per question; the results give per campaign, area and question
the average score, the share of yes and the count of each choice.

The rules (valid scores, averages, shares, answers fitting their question)
are plain functions in opinion.py.
"""
import datetime as dt

from sql import Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from . import opinion
from .exceptions import SurveyError, SurveyValidationError
from .request import KINDS

CHANNELS = [
    (None, ""),
    ('phone', "Phone"),
    ('portal', "Portal"),
    ('sms', "SMS"),
    ('in_person', "In Person"),
    ]
TO_CALL = ['pending', 'unreachable']
CALLED = ['answered', 'declined', 'unreachable']
QUESTION_KINDS = [
    (opinion.SCORE, "Score 1 to 5"),
    (opinion.YES_NO, "Yes or No"),
    (opinion.CHOICE, "Choice"),
    (opinion.TEXT, "Free Text"),
    ]
SCORE_DOMAIN = ['OR',
    ('score', '=', None),
    [('score', '>=', opinion.LOWEST), ('score', '<=', opinion.HIGHEST)],
    ]


def first_of_month(date):
    return date.replace(day=1)


class Satisfaction(Workflow, ModelSQL, ModelView):
    "Satisfaction Survey"
    __name__ = 'water.survey.satisfaction'
    __string__ = "Satisfaction Survey"

    _to_call = {'readonly': ~Eval('state').in_(TO_CALL)}

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    request = fields.Many2One(
        'water.request', "Request", required=True, readonly=True,
        ondelete='CASCADE')
    subscription = fields.Many2One(
        'water.subscription', "Subscription", readonly=True,
        ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Subscriber", readonly=True, ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'})
    phone = fields.Function(
        fields.Char("Phone"), 'get_phone')
    type = fields.Many2One(
        'water.request.type', "Request Type", required=True, readonly=True,
        ondelete='RESTRICT')
    kind = fields.Function(
        fields.Selection(KINDS, "Kind"), 'get_kind', searcher='search_kind')
    area = fields.Many2One(
        'water.area', "Service Area", required=True, readonly=True,
        ondelete='RESTRICT')
    closed_at = fields.DateTime("Request Closed", readonly=True)
    month = fields.Date(
        "Month", required=True, readonly=True,
        help="The month the request was closed in, for the results.")
    channel = fields.Selection(
        CHANNELS, "Channel", sort=False, states={
            'readonly': _to_call['readonly'],
            'required': Eval('state') == 'answered',
            })
    score = fields.Integer(
        "Score", domain=[SCORE_DOMAIN],
        states={
            'readonly': _to_call['readonly'],
            'required': Eval('state') == 'answered',
            },
        help="From 1 (very dissatisfied) to 5 (very satisfied).")
    comment = fields.Text("Comment", states=_to_call)
    attempts = fields.Integer(
        "Calls", readonly=True,
        help="How many times the subscriber was called.")
    surveyed_at = fields.DateTime("Surveyed At", readonly=True)
    surveyed_by = fields.Many2One(
        'res.user', "Surveyed By", readonly=True, ondelete='RESTRICT')
    state = fields.Selection([
            ('pending', "To Call"),
            ('answered', "Answered"),
            ('declined', "Declined"),
            ('unreachable', "Unreachable"),
            ], "State", required=True, readonly=True, sort=False)

    del _to_call

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('request_unique', Unique(t, t.request),
                'water_utility.msg_survey_request_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality()),
                    where=t.state.in_(TO_CALL)),
                Index(t, (t.month, Index.Range())),
                })
        cls._order = [('closed_at', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('pending', 'answered'),
            ('pending', 'declined'),
            ('pending', 'unreachable'),
            ('unreachable', 'answered'),
            ('unreachable', 'declined'),
            ('unreachable', 'unreachable'),
            }
        cls._buttons.update({
                'answer': {
                    'invisible': ~Eval('state').in_(TO_CALL),
                    'readonly': ~Eval('score'),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'score'],
                    },
                'decline': {
                    'invisible': ~Eval('state').in_(TO_CALL),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'unreachable': {
                    'invisible': ~Eval('state').in_(TO_CALL),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_attempts(cls):
        return 0

    def get_rec_name(self, name):
        return self.request.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('request.rec_name',) + tuple(clause[1:])]

    def get_phone(self, name):
        "The caller's phone, else the subscriber's mobile or phone"
        if self.request.caller_phone:
            return self.request.caller_phone
        if self.party:
            return self.party.mobile or self.party.phone

    def get_kind(self, name):
        return self.type.kind

    @classmethod
    def search_kind(cls, name, clause):
        return [('type.kind',) + tuple(clause[1:])]

    @classmethod
    def validate_fields(cls, surveys, field_names):
        super().validate_fields(surveys, field_names)
        if field_names and not (field_names & {'state', 'score'}):
            return
        for survey in surveys:
            if (survey.state == 'answered'
                    and not opinion.valid_score(survey.score)):
                raise SurveyValidationError(gettext(
                        'water_utility.msg_survey_score',
                        survey=survey.rec_name))

    @classmethod
    def _request_values(cls, request):
        "The values of the survey of a closed request"
        closed_at = request.closed_at or dt.datetime.now()
        return {
            'company': request.company.id,
            'request': request.id,
            'subscription': (
                request.subscription.id if request.subscription else None),
            'party': request.party.id if request.party else None,
            'type': request.type.id,
            'area': request.area.id,
            'closed_at': closed_at,
            'month': first_of_month(closed_at.date()),
            'channel': 'portal' if request.channel == 'portal' else 'phone',
            }

    @classmethod
    def create_for_requests(cls, requests):
        """Create the pending surveys of the closed requests that have none

        A request has one survey: closed again after a reopening, it keeps
        the first."""
        pool = Pool()
        Request = pool.get('water.request')
        requests = [r for r in Request.browse(requests)
            if r.state == 'closed']
        if not requests:
            return []
        surveyed = set()
        with without_check_access():
            for sub_ids in grouped_slice(
                    [r.id for r in requests], backend.MAX_QUERY_PARAMS):
                surveyed.update(s.request.id for s in cls.search([
                            ('request', 'in', list(sub_ids)),
                            ]))
            return cls.create([cls._request_values(r) for r in requests
                    if r.id not in surveyed])

    @classmethod
    def _called(cls, surveys, values=None):
        "Record who called and when, with values"
        now = dt.datetime.now().replace(microsecond=0)
        user = Transaction().user
        to_write = []
        for survey in surveys:
            to_write.extend(([survey], {
                        'surveyed_at': now,
                        'surveyed_by': user,
                        'attempts': (survey.attempts or 0) + 1,
                        **(values or {}),
                        }))
        if to_write:
            cls.write(*to_write)

    @classmethod
    @ModelView.button
    @Workflow.transition('answered')
    def answer(cls, surveys, score=None, comment=None, channel=None):
        """Record the subscriber's answer: a score from 1 to 5 (required),
        a comment and the channel

        Called by the button with the score entered, or from code (the
        portal) with score, comment and channel."""
        values = {}
        if score is not None:
            values['score'] = score
        if comment is not None:
            values['comment'] = comment
        if channel:
            values['channel'] = channel
        if values:
            cls.write(surveys, values)
        without_channel = [s for s in surveys if not s.channel]
        if without_channel:
            cls.write(without_channel, {'channel': 'phone'})
        for survey in surveys:
            if not opinion.valid_score(survey.score):
                raise SurveyError(gettext(
                        'water_utility.msg_survey_score',
                        survey=survey.rec_name))
        cls._called(surveys)

    @classmethod
    @ModelView.button
    @Workflow.transition('declined')
    def decline(cls, surveys):
        "The subscriber did not want to answer"
        cls._called(surveys)

    @classmethod
    @ModelView.button
    @Workflow.transition('unreachable')
    def unreachable(cls, surveys):
        "The subscriber could not be reached: the survey may be tried again"
        cls._called(surveys)


class Request(metaclass=PoolMeta):
    __name__ = 'water.request'

    surveys = fields.One2Many(
        'water.survey.satisfaction', 'request', "Satisfaction Surveys",
        readonly=True)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, requests):
        pool = Pool()
        Satisfaction = pool.get('water.survey.satisfaction')
        super().close(requests)
        Satisfaction.create_for_requests(requests)


class Campaign(Workflow, ModelSQL, ModelView):
    "Field Survey Campaign"
    __name__ = 'water.survey.campaign'
    __string__ = "Field Survey Campaign"

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_draft)
    name = fields.Char("Name", required=True, translate=True)
    areas = fields.Many2Many(
        'water.survey.campaign-water.area', 'campaign', 'area', "Areas",
        domain=[('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state') == 'closed'})
    start_date = fields.Date("Start Date", required=True, states=_draft)
    end_date = fields.Date(
        "End Date", required=True,
        domain=[If(Eval('start_date') & Eval('end_date'),
                ('end_date', '>=', Eval('start_date')), ())],
        states={'readonly': Eval('state') == 'closed'})
    description = fields.Text("Description")
    questions = fields.One2Many(
        'water.survey.question', 'campaign', "Questionnaire", states=_draft)
    responses = fields.One2Many(
        'water.survey.response', 'campaign', "Responses", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('open', "Open"),
            ('closed', "Closed"),
            ], "State", required=True, readonly=True, sort=False)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'open'),
            ('open', 'draft'),
            ('open', 'closed'),
            ('closed', 'open'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'open': {
                    'invisible': ~Eval('state').in_(['draft', 'closed']),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-close',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_start_date(cls):
        return dt.date.today()

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, campaigns):
        for campaign in campaigns:
            if campaign.responses:
                raise SurveyError(gettext(
                        'water_utility.msg_survey_campaign_answered',
                        campaign=campaign.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def open(cls, campaigns):
        "Open the campaign to the responses: it needs questions and areas"
        for campaign in campaigns:
            if not campaign.questions or not campaign.areas:
                raise SurveyError(gettext(
                        'water_utility.msg_survey_campaign_empty',
                        campaign=campaign.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, campaigns):
        pass


class CampaignArea(ModelSQL):
    "Field Survey Campaign - Area"
    __name__ = 'water.survey.campaign-water.area'
    __string__ = "Field Survey Campaign - Area"
    __access__ = {'campaign'}

    campaign = fields.Many2One(
        'water.survey.campaign', "Campaign", required=True,
        ondelete='CASCADE')
    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='CASCADE')


class Question(sequence_ordered(), ModelSQL, ModelView):
    "Field Survey Question"
    __name__ = 'water.survey.question'
    __string__ = "Field Survey Question"
    __access__ = {'campaign'}

    campaign = fields.Many2One(
        'water.survey.campaign', "Campaign", required=True,
        ondelete='CASCADE')
    text = fields.Char("Question", required=True, translate=True)
    kind = fields.Selection(
        QUESTION_KINDS, "Kind", required=True, sort=False)
    options = fields.Text(
        "Options",
        states={
            'invisible': Eval('kind') != opinion.CHOICE,
            'required': Eval('kind') == opinion.CHOICE,
            },
        help="The options to choose among, one a line.")
    required = fields.Boolean("Required")

    @classmethod
    def default_kind(cls):
        return opinion.SCORE

    @classmethod
    def default_required(cls):
        return True

    def get_rec_name(self, name):
        return self.text

    @property
    def choices(self):
        return opinion.options(self.options)

    @classmethod
    def validate_fields(cls, questions, field_names):
        super().validate_fields(questions, field_names)
        if field_names and not (field_names & {'kind', 'options'}):
            return
        for question in questions:
            if question.kind == opinion.CHOICE and not question.choices:
                raise SurveyValidationError(gettext(
                        'water_utility.msg_survey_question_options',
                        question=question.rec_name))


class Response(Workflow, ModelSQL, ModelView):
    "Field Survey Response"
    __name__ = 'water.survey.response'
    __string__ = "Field Survey Response"

    _draft = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_draft)
    campaign = fields.Many2One(
        'water.survey.campaign', "Campaign", required=True,
        ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('state') == 'draft', ('state', '=', 'open'), ()),
            ],
        states=_draft)
    campaign_areas = fields.Function(fields.Many2Many(
            'water.area', None, None, "Campaign Areas"),
        'on_change_with_campaign_areas')
    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='RESTRICT',
        domain=[
            If(Eval('state') == 'draft',
                ('id', 'in', Eval('campaign_areas', [])), ()),
            ],
        states=_draft)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        domain=[If(Eval('area'), ('area', '=', Eval('area', -1)), ())],
        states=_draft, help="The household met, when it is a subscriber.")
    respondent = fields.Char(
        "Respondent", states=_draft, help="The name of the person met.")
    date = fields.Date("Date", required=True, states=_draft)
    surveyed_by = fields.Many2One(
        'res.user', "Surveyed By", required=True, ondelete='RESTRICT',
        states=_draft)
    answers = fields.One2Many(
        'water.survey.answer', 'response', "Answers", states=_draft)
    comment = fields.Text("Comment", states=_draft)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", required=True, readonly=True, sort=False)

    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.campaign, Index.Range()), (t.area, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'done'),
            ('done', 'draft'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': Eval('state') != 'done',
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'done': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return dt.date.today()

    @classmethod
    def default_surveyed_by(cls):
        return Transaction().user

    @fields.depends('campaign')
    def on_change_with_campaign_areas(self, name=None):
        return [a.id for a in self.campaign.areas] if self.campaign else []

    @fields.depends('campaign', 'answers', 'area')
    def on_change_campaign(self):
        """Fill the answers with the questions of the campaign: one answer
        a question, in the questionnaire's order"""
        pool = Pool()
        Answer = pool.get('water.survey.answer')
        if not self.campaign:
            return
        if self.area and self.area not in self.campaign.areas:
            self.area = None
        if not self.area and len(self.campaign.areas) == 1:
            self.area, = self.campaign.areas
        answers = {a.question: a for a in (self.answers or [])
            if a.question and a.question.campaign == self.campaign}
        self.answers = [answers.get(q) or Answer(
                question=q, kind=q.kind, required=q.required)
            for q in self.campaign.questions]

    @fields.depends('subscription', 'area', 'respondent')
    def on_change_subscription(self):
        if self.subscription:
            self.area = self.subscription.area
            if not self.respondent:
                self.respondent = self.subscription.party.rec_name

    def get_rec_name(self, name):
        return '%s - %s' % (self.campaign.rec_name, self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('campaign.rec_name',) + tuple(clause[1:])]

    @classmethod
    def validate_fields(cls, responses, field_names):
        super().validate_fields(responses, field_names)
        if field_names and not (field_names & {'campaign', 'area'}):
            return
        for response in responses:
            if response.area not in response.campaign.areas:
                raise SurveyValidationError(gettext(
                        'water_utility.msg_survey_response_area',
                        area=response.area.rec_name,
                        campaign=response.campaign.rec_name))

    def check_answers(self):
        """Every question of the campaign answered when required, each
        answer fitting its question"""
        answers = {a.question: a for a in self.answers}
        for question in self.campaign.questions:
            answer = answers.get(question)
            if answer:
                answer.check_value()
            if question.required and not opinion.answered(
                    question.kind, answer.value if answer else None):
                raise SurveyError(gettext(
                        'water_utility.msg_survey_answer_required',
                        question=question.rec_name,
                        response=self.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, responses):
        for response in responses:
            if response.campaign.state != 'open':
                raise SurveyError(gettext(
                        'water_utility.msg_survey_campaign_not_open',
                        campaign=response.campaign.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, responses):
        "The response is complete: it counts in the campaign's results"
        for response in responses:
            if response.campaign.state != 'open':
                raise SurveyError(gettext(
                        'water_utility.msg_survey_campaign_not_open',
                        campaign=response.campaign.rec_name))
            response.check_answers()


class Answer(ModelSQL, ModelView):
    "Field Survey Answer"
    __name__ = 'water.survey.answer'
    __string__ = "Field Survey Answer"
    __access__ = {'response'}

    response = fields.Many2One(
        'water.survey.response', "Response", required=True,
        ondelete='CASCADE')
    question = fields.Many2One(
        'water.survey.question', "Question", required=True,
        ondelete='RESTRICT',
        domain=[
            ('campaign', '=', Eval('_parent_response', {}).get(
                    'campaign', -1)),
            ],
        states={'readonly': Eval('id', -1) >= 0})
    kind = fields.Function(fields.Selection(
            QUESTION_KINDS, "Kind"), 'on_change_with_kind')
    required = fields.Function(
        fields.Boolean("Required"), 'on_change_with_required')
    score = fields.Integer(
        "Score", domain=[SCORE_DOMAIN],
        states={'invisible': Eval('kind') != opinion.SCORE})
    yes_no = fields.Selection([
            (None, ""),
            (opinion.YES, "Yes"),
            (opinion.NO, "No"),
            ], "Yes or No",
        states={'invisible': Eval('kind') != opinion.YES_NO})
    choice = fields.Selection(
        'get_choices', "Choice",
        states={'invisible': Eval('kind') != opinion.CHOICE})
    text = fields.Text(
        "Text", states={'invisible': Eval('kind') != opinion.TEXT})

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('question_unique', Unique(t, t.response, t.question),
                'water_utility.msg_survey_answer_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.question, Index.Range())))
        cls._order = [('question', 'ASC'), ('id', 'ASC')]

    @fields.depends('question')
    def on_change_with_kind(self, name=None):
        return self.question.kind if self.question else None

    @fields.depends('question')
    def on_change_with_required(self, name=None):
        return self.question.required if self.question else False

    @fields.depends('question')
    def get_choices(self):
        choices = self.question.choices if self.question else []
        return [(None, "")] + [(c, c) for c in choices]

    def get_rec_name(self, name):
        return self.question.rec_name

    @property
    def value(self):
        "The answer in the field of its question's kind"
        return {
            opinion.SCORE: self.score,
            opinion.YES_NO: self.yes_no,
            opinion.CHOICE: self.choice,
            opinion.TEXT: self.text,
            }.get(self.question.kind)

    def check_value(self):
        "Raise when the value does not fit the question's kind"
        error = opinion.answer_error(
            self.question.kind, self.value, self.question.choices)
        if error:
            raise SurveyValidationError(gettext({
                        'score': 'water_utility.msg_survey_answer_score',
                        'yes_no': 'water_utility.msg_survey_answer_yes_no',
                        'choice': 'water_utility.msg_survey_answer_choice',
                        }[error],
                    question=self.question.rec_name,
                    value=self.value,
                    choices=', '.join(self.question.choices)))

    @classmethod
    def validate_fields(cls, answers, field_names):
        super().validate_fields(answers, field_names)
        for answer in answers:
            if answer.response.campaign != answer.question.campaign:
                raise SurveyValidationError(gettext(
                        'water_utility.msg_survey_answer_question',
                        question=answer.question.rec_name,
                        campaign=answer.response.campaign.rec_name))
            answer.check_value()


class SatisfactionResult(ModelSQL, ModelView):
    "Satisfaction per Area and Request Type"
    __name__ = 'water.survey.satisfaction.result'
    __string__ = "Satisfaction per Area and Request Type"

    company = fields.Many2One('company.company', "Company", readonly=True)
    month = fields.Date("Month", readonly=True)
    area = fields.Many2One('water.area', "Service Area", readonly=True)
    type = fields.Many2One(
        'water.request.type', "Request Type", readonly=True)
    kind = fields.Function(
        fields.Selection(KINDS, "Kind"), 'get_kind', searcher='search_kind')
    surveys = fields.Integer("Surveys", readonly=True,
        help="The requests closed in the month.")
    called = fields.Integer("Called", readonly=True,
        help="The surveys answered, declined or unreachable.")
    answered = fields.Integer("Answered", readonly=True)
    score_total = fields.Integer("Total of the Scores", readonly=True)
    satisfied = fields.Integer("Satisfied", readonly=True,
        help="The answers with a score of 4 or 5.")
    average = fields.Function(
        fields.Float("Average Score", digits=(1, 2)), 'get_figures')
    satisfied_share = fields.Function(
        fields.Float("Satisfied Share", digits=(1, 4)), 'get_figures')
    response_rate = fields.Function(
        fields.Float("Response Rate", digits=(1, 4),
            help="The share of the surveys called that were answered."),
        'get_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('area', 'ASC'), ('type', 'ASC'),
            ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Satisfaction = pool.get('water.survey.satisfaction')
        survey = Satisfaction.__table__()
        answered = survey.state == 'answered'
        return survey.select(
            Min(survey.id).as_('id'),
            survey.company.as_('company'),
            survey.month.as_('month'),
            survey.area.as_('area'),
            survey.type.as_('type'),
            Count(survey.id).as_('surveys'),
            Sum(Case((survey.state.in_(CALLED), 1), else_=0)).as_('called'),
            Sum(Case((answered, 1), else_=0)).as_('answered'),
            Sum(Case((answered, survey.score), else_=0)).as_('score_total'),
            Sum(Case((answered & (survey.score >= opinion.SATISFIED), 1),
                    else_=0)).as_('satisfied'),
            group_by=[survey.company, survey.month, survey.area,
                survey.type])

    def get_kind(self, name):
        return self.type.kind

    @classmethod
    def search_kind(cls, name, clause):
        return [('type.kind',) + tuple(clause[1:])]

    def get_figures(self, name):
        if name == 'average':
            return opinion.average(self.score_total, self.answered)
        elif name == 'satisfied_share':
            return opinion.satisfied_share(self.satisfied, self.answered)
        elif name == 'response_rate':
            return opinion.response_rate(self.answered, self.called)


class CampaignResult(ModelSQL, ModelView):
    "Field Survey Result"
    __name__ = 'water.survey.campaign.result'
    __string__ = "Field Survey Result"

    company = fields.Many2One('company.company', "Company", readonly=True)
    campaign = fields.Many2One(
        'water.survey.campaign', "Campaign", readonly=True)
    area = fields.Many2One('water.area', "Area", readonly=True)
    question = fields.Many2One(
        'water.survey.question', "Question", readonly=True)
    kind = fields.Function(fields.Selection(
            QUESTION_KINDS, "Kind"), 'get_kind')
    choice = fields.Char("Choice", readonly=True,
        help="Each option chosen has its row.")
    answers = fields.Integer("Answers", readonly=True)
    score_total = fields.Integer("Total of the Scores", readonly=True)
    scores = fields.Integer("Scores", readonly=True)
    yes = fields.Integer("Yes", readonly=True)
    yes_no = fields.Integer("Yes or No Answers", readonly=True)
    average = fields.Function(
        fields.Float("Average Score", digits=(1, 2)), 'get_figures')
    yes_share = fields.Function(
        fields.Float("Yes Share", digits=(1, 4)), 'get_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('campaign', 'ASC'), ('area', 'ASC'),
            ('question', 'ASC'), ('choice', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Response = pool.get('water.survey.response')
        Answer = pool.get('water.survey.answer')
        response = Response.__table__()
        answer = Answer.__table__()
        given = ((answer.score != Null) | (answer.yes_no != Null)
            | ((answer.choice != Null) & (answer.choice != ''))
            | ((answer.text != Null) & (answer.text != '')))
        return answer.join(response,
            condition=answer.response == response.id
            ).select(
            Min(answer.id).as_('id'),
            response.company.as_('company'),
            response.campaign.as_('campaign'),
            response.area.as_('area'),
            answer.question.as_('question'),
            answer.choice.as_('choice'),
            Sum(Case((given, 1), else_=0)).as_('answers'),
            Sum(Case((answer.score != Null, answer.score), else_=0)
                ).as_('score_total'),
            Sum(Case((answer.score != Null, 1), else_=0)).as_('scores'),
            Sum(Case((answer.yes_no == opinion.YES, 1), else_=0)).as_('yes'),
            Sum(Case((answer.yes_no != Null, 1), else_=0)).as_('yes_no'),
            where=response.state == 'done',
            group_by=[response.company, response.campaign, response.area,
                answer.question, answer.choice])

    def get_kind(self, name):
        return self.question.kind

    def get_figures(self, name):
        if name == 'average':
            return opinion.average(self.score_total, self.scores)
        elif name == 'yes_share':
            return opinion.ratio(self.yes or 0, self.yes_no)


class CharterReport(metaclass=PoolMeta):
    __name__ = 'water.request.charter.report'

    @classmethod
    def extra_sections(cls, company, month):
        "The satisfaction surveys of the month in the charter report"
        pool = Pool()
        Result = pool.get('water.survey.satisfaction.result')
        sections = super().extra_sections(company, month)
        rows = Result.search([
                ('company', '=', company.id),
                ('month', '=', month),
                ])
        answered = sum(r.answered for r in rows)
        called = sum(r.called for r in rows)
        sections.append(cls.section(Result, [
                    ('surveys', sum(r.surveys for r in rows)),
                    ('called', called),
                    ('answered', answered),
                    ('average', opinion.average(
                            sum(r.score_total for r in rows), answered)),
                    ('satisfied_share', ('share', opinion.satisfied_share(
                                sum(r.satisfied for r in rows), answered))),
                    ('response_rate', ('share', opinion.response_rate(
                                answered, called))),
                    ]))
        return sections
