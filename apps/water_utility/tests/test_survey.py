# This file is part of the water_utility module.  See README.rst.
"Subscribers' opinion: satisfaction after a request, field campaigns"
import datetime as dt
import unittest

from hypothesis import given
from hypothesis import strategies as st

from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from .. import opinion
from .database import UtilityTestCase, utility, with_transaction
from . import test_module as base

scores = st.lists(st.integers(opinion.LOWEST, opinion.HIGHEST))


class OpinionTestCase(unittest.TestCase):
    "The rules of the surveys, without database"

    @given(st.integers(-10, 10))
    def test_valid_score(self, score):
        "A score is an integer from 1 to 5"
        self.assertEqual(opinion.valid_score(score), 1 <= score <= 5)

    def test_not_a_score(self):
        "Nothing but an integer is a score"
        for value in [None, True, 4.0, '4', 0, 6]:
            self.assertFalse(opinion.valid_score(value), value)

    @given(scores)
    def test_summary(self, values):
        "The average lies within the scores, the shares within 0 and 1"
        count, total, satisfied = opinion.summary(values)
        average = opinion.average(total, count)
        share = opinion.satisfied_share(satisfied, count)
        if not values:
            self.assertIsNone(average)
            self.assertIsNone(share)
            return
        self.assertLessEqual(min(values), average)
        self.assertLessEqual(average, max(values))
        self.assertAlmostEqual(average, sum(values) / len(values))
        self.assertEqual(
            satisfied, len([v for v in values if v in {4, 5}]))
        self.assertTrue(0 <= share <= 1)

    @given(scores, scores)
    def test_sums_add_up(self, first, second):
        """The figures of two groups together are those of their sums: the
        results add up over months, areas and types"""
        together = opinion.summary(first + second)
        parts = [opinion.summary(first), opinion.summary(second)]
        self.assertEqual(together, tuple(map(sum, zip(*parts))))
        if together[0]:
            self.assertAlmostEqual(
                opinion.average(together[1], together[0]),
                (sum(first) + sum(second)) / (len(first) + len(second)))

    @given(st.integers(0, 1000), st.integers(0, 1000))
    def test_response_rate(self, answered, others):
        "The answered share of the surveys called, never above 1"
        rate = opinion.response_rate(answered, answered + others)
        if answered + others == 0:
            self.assertIsNone(rate)
        else:
            self.assertTrue(0 <= rate <= 1)
            self.assertEqual(rate == 1, others == 0)

    @given(st.lists(st.text(max_size=8)))
    def test_options(self, lines):
        "The options are the lines written, stripped, once each"
        result = opinion.options('\n'.join(lines))
        self.assertEqual(len(result), len(set(result)))
        self.assertTrue(all(o and o == o.strip() for o in result))
        self.assertEqual(set(result), {
                o.strip() for line in lines
                for o in line.splitlines() if o.strip()})

    def test_answer_error(self):
        "An answer fits the kind of its question"
        error = opinion.answer_error
        for kind in [opinion.SCORE, opinion.YES_NO, opinion.CHOICE,
                opinion.TEXT]:
            self.assertIsNone(error(kind, None))
            self.assertEqual(error(kind, None, required=True), 'required')
        self.assertEqual(error(opinion.TEXT, '  ', required=True), 'required')
        self.assertIsNone(error(opinion.SCORE, 5))
        self.assertEqual(error(opinion.SCORE, 6), 'score')
        self.assertEqual(error(opinion.SCORE, 0), 'score')
        self.assertIsNone(error(opinion.YES_NO, opinion.NO))
        self.assertEqual(error(opinion.YES_NO, 'maybe'), 'yes_no')
        self.assertIsNone(error(opinion.CHOICE, 'ب', ['أ', 'ب']))
        self.assertEqual(error(opinion.CHOICE, 'ج', ['أ', 'ب']), 'choice')
        self.assertIsNone(error(opinion.TEXT, "المياه تصل ليلاً فقط"))


class SurveyTestCase(UtilityTestCase):
    "Test the surveys of the Water Utility module"

    def setup_utility(self):
        pool = Pool()
        Type = pool.get('water.request.type')
        u = utility()
        company, area, route, other_route, domestic = (
            u.company, u.area, u.route, u.other_route, u.domestic)
        self.company = company
        self.area, self.route = area, route
        self.other_area, self.other_route = other_route.area, other_route
        self.domestic = domestic
        self.leak = Type(base.model_data('request_type_leak'))
        self.bill = Type(base.model_data('request_type_bill'))
        with set_company(company):
            self.subscription = base.create_subscription(
                area, route, domestic)
            self.other = base.create_subscription(
                self.other_area, other_route, domestic,
                party=base.create_subscriber("فاطمة سالم", '+970599765432'))

    def closed_requests(self, *specs):
        """Requests received, answered and closed at once; specs are
        (subscription or None, type)"""
        pool = Pool()
        Request = pool.get('water.request')
        requests = Request.create([{
                    'company': self.company.id,
                    'subscription': s.id if s else None,
                    'area': s.area.id if s else self.area.id,
                    'caller_name': None if s else "سامي",
                    'caller_phone': None if s else '+970599000111',
                    'channel': 'phone',
                    'type': t.id,
                    'description': "تسرب أمام العداد",
                    'answer': "أصلح الفريق التسرب",
                    'root_cause': "وصلة قديمة",
                    } for s, t in specs])
        Request.resolve(requests)
        Request.close(requests)
        return requests

    @with_transaction()
    def test_survey_on_close(self):
        "Closing requests leaves one survey to call for each, once"
        pool = Pool()
        Request = pool.get('water.request')
        Satisfaction = pool.get('water.survey.satisfaction')
        self.setup_utility()
        with set_company(self.company):
            requests = self.closed_requests(
                (self.subscription, self.leak), (self.other, self.bill),
                (None, self.leak))
            surveys = Satisfaction.search([], order=[('id', 'ASC')])
            self.assertEqual([s.request for s in surveys], requests)
            self.assertEqual({s.state for s in surveys}, {'pending'})
            first, second, caller = surveys
            self.assertEqual(first.party, self.subscription.party)
            self.assertEqual(first.subscription, self.subscription)
            self.assertEqual(first.type, self.leak)
            self.assertEqual(first.kind, 'technical')
            self.assertEqual(second.area, self.other_area)
            self.assertEqual(first.phone, '+970 599 123 456')
            self.assertEqual(caller.phone, '+970599000111')
            self.assertIsNone(caller.party)
            self.assertEqual(first.month, requests[0].closed_at.date().replace(
                    day=1))
            self.assertEqual(first.channel, 'phone')
            self.assertEqual(requests[0].surveys, (first,))

            # reopened and closed again: still one survey
            Request.do_reopen(requests[:1], "عاد التسرب")
            Request.resolve(requests[:1])
            Request.close(requests[:1])
            self.assertEqual(Satisfaction.search([], count=True), 3)
            # a request answered but not closed has none
            open_, = Request.create([{
                        'company': self.company.id,
                        'subscription': self.subscription.id,
                        'type': self.bill.id,
                        'description': "كشف حساب",
                        'answer': "أرسل الكشف",
                        }])
            Request.resolve([open_])
            self.assertEqual(open_.surveys, ())
            with self.assertRaises(UserError):
                Satisfaction.create([
                        Satisfaction._request_values(requests[0])])

    @with_transaction()
    def test_answer(self):
        "The answer needs a score from 1 to 5; declined and unreachable too"
        pool = Pool()
        Satisfaction = pool.get('water.survey.satisfaction')
        User = pool.get('res.user')
        self.setup_utility()
        with set_company(self.company):
            self.closed_requests(*[(self.subscription, self.leak)] * 4)
            answered, declined, unreachable, portal = Satisfaction.search(
                [], order=[('id', 'ASC')])
            with self.assertRaises(UserError):
                Satisfaction.answer([answered])
            for score in [0, 6]:
                with self.assertRaises(ValidationError):
                    Satisfaction.write([answered], {'score': score})
            with self.assertRaises(UserError):
                Satisfaction.answer([answered], 6)
            self.assertEqual(answered.state, 'pending')

            Satisfaction.write([answered], {
                    'score': 4, 'comment': "حضر الفريق بسرعة"})
            Satisfaction.answer([answered])
            self.assertEqual(answered.state, 'answered')
            self.assertEqual(answered.surveyed_by, User(Transaction().user))
            self.assertTrue(answered.surveyed_at)
            self.assertEqual(answered.attempts, 1)
            self.assertEqual(answered.channel, 'phone')
            with self.assertRaises(ValidationError):
                Satisfaction.write([answered], {'score': None})

            Satisfaction.decline([declined])
            self.assertEqual(declined.state, 'declined')
            self.assertIsNone(declined.score)

            Satisfaction.unreachable([unreachable])
            Satisfaction.unreachable([unreachable])
            self.assertEqual(unreachable.attempts, 2)
            Satisfaction.answer([unreachable], 2, "ما زال الضغط ضعيفاً")
            self.assertEqual(
                (unreachable.state, unreachable.score, unreachable.attempts),
                ('answered', 2, 3))

            # as the portal will: score, comment and channel from code
            Satisfaction.answer([portal], 5, "شكراً", 'portal')
            self.assertEqual(
                (portal.state, portal.score, portal.comment, portal.channel),
                ('answered', 5, "شكراً", 'portal'))
            # an answered survey is not answered again
            Satisfaction.answer([portal], 1)
            self.assertEqual(portal.score, 5)

    def create_campaign(self, areas=None, **values):
        pool = Pool()
        Campaign = pool.get('water.survey.campaign')
        campaign, = Campaign.create([{
                    'company': self.company.id,
                    'name': "رضا المشتركين عن ضغط المياه",
                    'start_date': dt.date(2026, 11, 1),
                    'end_date': dt.date(2026, 11, 30),
                    'areas': [('add', [a.id for a in (
                                    areas or [self.area])])],
                    'questions': [('create', [{
                                    'sequence': 1,
                                    'text': "ما تقييمك لضغط المياه؟",
                                    'kind': opinion.SCORE,
                                    }, {
                                    'sequence': 2,
                                    'text': "هل تصل المياه يومياً؟",
                                    'kind': opinion.YES_NO,
                                    }, {
                                    'sequence': 3,
                                    'text': "متى تصل المياه عادة؟",
                                    'kind': opinion.CHOICE,
                                    'options': "صباحاً\nمساءً\nليلاً\n",
                                    }, {
                                    'sequence': 4,
                                    'text': "ملاحظات أخرى",
                                    'kind': opinion.TEXT,
                                    'required': False,
                                    }])],
                    **values,
                    }])
        return campaign

    def new_response(self, campaign, area=None, **answers):
        "A response filled as the form does, answers by position"
        pool = Pool()
        Response = pool.get('water.survey.response')
        response = Response(company=self.company)
        response.campaign = campaign
        response.on_change_campaign()
        response.area = area or self.area
        for answer, (name, value) in zip(response.answers, [
                    ('score', answers.get('score')),
                    ('yes_no', answers.get('yes_no')),
                    ('choice', answers.get('choice')),
                    ('text', answers.get('text')),
                    ]):
            setattr(answer, name, value)
        response.save()
        return response

    @with_transaction()
    def test_campaign_response_validation(self):
        "Each kind of question takes its kind of answer"
        pool = Pool()
        Campaign = pool.get('water.survey.campaign')
        Question = pool.get('water.survey.question')
        Response = pool.get('water.survey.response')
        Answer = pool.get('water.survey.answer')
        self.setup_utility()
        with set_company(self.company):
            empty, = Campaign.create([{
                        'company': self.company.id,
                        'name': "فارغة",
                        'start_date': dt.date(2026, 11, 1),
                        'end_date': dt.date(2026, 11, 30),
                        }])
            with self.assertRaises(UserError):
                Campaign.open([empty])
            with self.assertRaises(ValidationError):
                Question.create([{
                            'campaign': empty.id, 'text': "اختر",
                            'kind': opinion.CHOICE, 'options': "\n  \n"}])

            campaign = self.create_campaign()
            # a campaign in draft takes no response
            response = Response(company=self.company)
            response.campaign = campaign
            response.on_change_campaign()
            self.assertEqual(
                [a.question for a in response.answers],
                list(campaign.questions))
            self.assertEqual(response.area, self.area)
            Campaign.open([campaign])

            complete = {'score': 4, 'yes_no': 'no', 'choice': 'ليلاً'}
            response = self.new_response(campaign, **complete)
            self.assertEqual(len(response.answers), 4)
            self.assertEqual([a.kind for a in response.answers], [
                    opinion.SCORE, opinion.YES_NO, opinion.CHOICE,
                    opinion.TEXT])
            # the free text may stay empty
            Response.done([response])
            self.assertEqual(response.state, 'done')
            Response.draft([response])
            self.assertEqual(response.state, 'draft')

            # every required question answered
            incomplete = self.new_response(campaign, score=3, yes_no='yes')
            with self.assertRaises(UserError):
                Response.done([incomplete])
            self.assertEqual(incomplete.state, 'draft')

            # each answer of its question's kind
            for wrong in [{'score': 6}, {'score': 0}, {'yes_no': 'maybe'},
                    {'choice': "ظهراً"}]:
                with self.assertRaises(ValidationError):
                    self.new_response(campaign, **{**complete, **wrong})

            # in an area the campaign surveys
            with self.assertRaises(ValidationError):
                self.new_response(campaign, self.other_area, **complete)

            # to the questions of its campaign, once each
            other = self.create_campaign()
            with self.assertRaises(ValidationError):
                Answer.create([{
                            'response': incomplete.id,
                            'question': other.questions[0].id,
                            'score': 3}])

            # a closed campaign's responses stay as they are
            Response.done([response])
            Campaign.close([campaign])
            with self.assertRaises(UserError):
                Response.draft([response])
            with self.assertRaises(UserError):
                Answer.create([{
                            'response': response.id,
                            'question': response.answers[0].question.id,
                            'score': 3}])

    @with_transaction()
    def test_results(self):
        "Satisfaction per area and type, campaign figures per question"
        pool = Pool()
        Satisfaction = pool.get('water.survey.satisfaction')
        Result = pool.get('water.survey.satisfaction.result')
        Campaign = pool.get('water.survey.campaign')
        Response = pool.get('water.survey.response')
        CampaignResult = pool.get('water.survey.campaign.result')
        self.setup_utility()
        with set_company(self.company):
            self.closed_requests(
                *[(self.subscription, self.leak)] * 4,
                *[(self.other, self.leak)] * 2,
                (self.subscription, self.bill))
            surveys = Satisfaction.search([], order=[('id', 'ASC')])
            gaza_leak, other_leak = (
                surveys[:4], surveys[4:6])
            for survey, score in zip(gaza_leak, [5, 4, 2]):
                Satisfaction.answer([survey], score)
            Satisfaction.unreachable(gaza_leak[3:])
            Satisfaction.answer(other_leak[:1], 3)
            Satisfaction.decline(other_leak[1:])

            results = {(r.area, r.type): r for r in Result.search([])}
            self.assertEqual(len(results), 3)
            gaza = results[self.area, self.leak]
            self.assertEqual(
                (gaza.surveys, gaza.called, gaza.answered, gaza.score_total,
                    gaza.satisfied), (4, 4, 3, 11, 2))
            self.assertAlmostEqual(gaza.average, 11 / 3)
            self.assertAlmostEqual(gaza.satisfied_share, 2 / 3)
            self.assertAlmostEqual(gaza.response_rate, 3 / 4)
            self.assertEqual(gaza.kind, 'technical')
            other = results[self.other_area, self.leak]
            self.assertEqual((other.answered, other.average,
                    other.satisfied_share, other.response_rate),
                (1, 3.0, 0.0, 0.5))
            bill = results[self.area, self.bill]
            self.assertEqual((bill.surveys, bill.called), (1, 0))
            self.assertIsNone(bill.average)
            self.assertIsNone(bill.response_rate)
            self.assertEqual(
                Result.search([('kind', '=', 'account')]), [bill])

            campaign = self.create_campaign(
                areas=[self.area, self.other_area])
            Campaign.open([campaign])
            responses = [
                self.new_response(campaign, score=4, yes_no='yes',
                    choice='ليلاً', text="الضغط ضعيف في الطابق الثاني"),
                self.new_response(campaign, score=2, yes_no='no',
                    choice='ليلاً'),
                self.new_response(campaign, self.other_area, score=5,
                    yes_no='yes', choice='صباحاً'),
                ]
            Response.done(responses)
            # a draft response does not count
            self.new_response(campaign, score=1, yes_no='no',
                choice='مساءً')
            rows = CampaignResult.search([('campaign', '=', campaign.id)])
            by_key = {(r.area, r.question.sequence, r.choice): r
                for r in rows}
            score = by_key[self.area, 1, None]
            self.assertEqual((score.answers, score.scores, score.average),
                (2, 2, 3.0))
            self.assertEqual(score.kind, opinion.SCORE)
            yes_no = by_key[self.area, 2, None]
            self.assertEqual((yes_no.answers, yes_no.yes_share), (2, 0.5))
            self.assertIsNone(yes_no.average)
            self.assertEqual(by_key[self.area, 3, 'ليلاً'].answers, 2)
            self.assertNotIn((self.area, 3, 'مساءً'), by_key)
            self.assertEqual(by_key[self.area, 4, None].answers, 1)
            other = by_key[self.other_area, 1, None]
            self.assertEqual(other.average, 5.0)
            self.assertEqual(by_key[self.other_area, 2, None].yes_share, 1.0)
