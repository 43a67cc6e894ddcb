"""Predictive lead scoring: trained from closed leads, gated on a held-out later
slice, explained by its own terms, refreshed when a lead changes."""

import random

import pytest
from django.urls import reverse

from crm import jobs
from leads import scoring
from leads.models import Lead, ScoreHistory, ScoringModel, ScoringSettings
from tests.factories import ActivityFactory, LeadFactory, RepFactory
from tests.leads.scoring_data import closed_history, make_leads

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return RepFactory()


def test_a_planted_signal_is_found_and_the_model_published(owner):
    closed_history(owner, 1500, signal=True)
    model = scoring.train()
    assert model.auc > 0.8, model.auc
    assert model.quality == ScoringModel.Quality.READY and model.is_published
    assert model.qualified >= 40 and model.disqualified >= 40
    influential = [name for name, _ in model.content["influence"][:4]]
    assert {"lead_source", "decision_maker", "email"} <= set(influential)


def test_without_signal_the_auc_is_a_coin_and_nothing_is_published(owner):
    closed_history(owner, 1500, signal=False)
    model = scoring.train()
    assert 0.4 < model.auc < 0.62, model.auc
    assert model.quality == ScoringModel.Quality.NOT_READY and not model.is_published
    assert "AUC" in model.reason
    assert scoring.published_model() is None


def test_too_few_closed_leads_is_not_ready_and_says_why(owner):
    closed_history(owner, 60, signal=True)
    model = scoring.train()
    assert model.quality == ScoringModel.Quality.NOT_READY and not model.is_published
    assert "at least 40 qualified and 40 disqualified" in model.reason


def test_leads_closed_before_the_window_do_not_train(owner):
    closed_history(owner, 300, signal=True)
    settings = ScoringSettings.load()
    settings.window_days = 91
    settings.save()
    model = scoring.train()
    assert model.qualified + model.disqualified < 100


def test_open_leads_are_scored_graded_and_kept_in_history(owner):
    closed_history(owner, 1200, signal=True)
    scoring.train()
    rng = random.Random(3)
    good, bad = Lead.objects.bulk_create(make_leads(owner, 2, rng=rng, days_back=(1, 5)))
    Lead.objects.filter(pk=good.pk).update(
        lead_source="web",
        decision_maker_identified=True,
        budget_amount=150_000,
        email="ceo@bigco.example",
    )
    Lead.objects.filter(pk=bad.pk).update(
        lead_source="advertisement",
        decision_maker_identified=False,
        budget_amount=5_000,
        email="someone@gmail.com",
    )
    assert scoring.score_leads() == 2
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.score > 70 > 30 > bad.score
    assert (good.score_grade, bad.score_grade) == ("A", "D")
    assert good.score_trend == "steady"
    assert list(ScoreHistory.objects.filter(lead=good).values_list("score", flat=True)) == [
        good.score
    ]

    # Scored again with nothing changed: no new history.
    scoring.score_leads(ids=[good.pk])
    assert ScoreHistory.objects.filter(lead=good).count() == 1


def test_the_explanation_adds_up_to_the_score_with_sentences_from_the_data(owner):
    closed_history(owner, 1200, signal=True)
    scoring.train()
    lead = LeadFactory(
        owner=owner, lead_source="web", decision_maker_identified=True, email="a@bigco.example"
    )
    scoring.score_leads(ids=[lead.pk])
    lead.refresh_from_db()
    explanation = scoring.explain(lead)
    assert explanation.score == lead.score
    assert explanation.base + sum(r.points for r in explanation.reasons) == explanation.score
    top = explanation.positive[0]
    assert top.points > 0 and "% of" in top.sentence and "against" in top.sentence
    web = next(r for r in explanation.reasons if r.feature == "lead_source")
    assert web.sentence.startswith("Lead source is Web: ")
    assert "of leads from the web were qualified" in web.sentence


def test_a_saved_lead_or_a_new_activity_is_scored_again_in_a_job(
    owner, django_capture_on_commit_callbacks
):
    closed_history(owner, 1200, signal=True)
    scoring.train()
    lead = LeadFactory(owner=owner, lead_source="advertisement")
    from leads import services

    with django_capture_on_commit_callbacks(execute=True):
        services.update_lead(lead=lead, user=owner, lead_source="web")
    assert jobs.run_queued() >= 1
    lead.refresh_from_db()
    first = lead.score
    assert first >= 0 and lead.score_grade

    with django_capture_on_commit_callbacks(execute=True):
        from activities import services as timeline

        timeline.create_activity(user=owner, regarding=lead, type="task", subject="Call back")
    assert jobs.run_queued() >= 1
    assert ScoreHistory.objects.filter(lead=lead).exists()


def test_the_trend_follows_the_last_scores():
    assert scoring.trend_of(-1, 50) == "steady"
    assert scoring.trend_of(50, 53) == "steady"
    assert scoring.trend_of(50, 60) == "improving"
    assert scoring.trend_of(60, 50) == "declining"


def test_auc():
    assert scoring.auc([(0.9, True), (0.1, False)]) == 1.0
    assert scoring.auc([(0.5, True), (0.5, False)]) == 0.5
    assert scoring.auc([(0.1, True), (0.9, False)]) == 0.0


def test_points_add_up_and_keep_to_each_terms_own_effect():
    # Two strong terms that cancel out: the score stays at the base, and each term
    # shows about what it does on its own, not a share of nothing blown up.
    points = scoring._points(0.0, 1.0, [2.0, -2.0, 0.1], 0)
    assert sum(points) == 0
    assert 30 < points[0] < 45 and -45 < points[1] < -30 and 0 <= points[2] <= 3
    # Nearly cancelling: no point larger than the score's whole range.
    points = scoring._points(-0.1, 1.2, [2.6, -1.9, -0.6, 0.3], 2)
    assert sum(points) == 2 and all(abs(p) <= 50 for p in points)
    assert [p > 0 for p in points[:3]] == [True, False, False]
    # One term: all the points are its own.
    assert scoring._points(0.0, 1.0, [1.0], 23) == [23]
    assert scoring._points(0.0, 1.0, [0.0, 0.0], 0) == [0, 0]
    # All of one sign with rounding left over: no division by zero, still adds up.
    assert sum(scoring._points(0.0, 1.0, [-0.004, -0.004], 0)) == 0


def test_an_added_field_is_learned(owner):
    settings = ScoringSettings.load()
    settings.extra_fields = scoring.check_extra_fields(["do_not_call"])
    settings.save()
    closed_history(owner, 400, signal=True)
    model = scoring.train()
    assert "do_not_call" in model.content["counts"]
    with pytest.raises(Exception, match="no field"):
        scoring.check_extra_fields(["nonsense"])
    with pytest.raises(Exception, match="cannot be added"):
        scoring.check_extra_fields(["email"])


def test_activities_before_closing_are_counted(owner):
    leads = closed_history(owner, 200, signal=True)
    for lead in leads[:50]:
        ActivityFactory(lead=lead)
    model = scoring.train()
    assert sum(sum(v) for v in model.content["counts"]["activities"].values()) == 200


def test_one_lead_scores_as_in_a_chunk(owner):
    """A save scores one lead from SQL compiled once; a chunk through the ORM:
    the same features, the same score."""
    closed_history(owner, 1200, signal=True)
    scoring.train()
    rng = random.Random(5)
    leads = Lead.objects.bulk_create(make_leads(owner, 6, rng=rng, days_back=(1, 40)))
    scoring.score_leads(ids=[lead.pk for lead in leads])
    chunked = dict(Lead.objects.values_list("pk", "score").filter(pk__in=[x.pk for x in leads]))
    Lead.objects.filter(pk__in=chunked).update(score=-1)
    for lead in leads:
        scoring.score_leads(ids=[lead.pk])
    single = dict(Lead.objects.values_list("pk", "score").filter(pk__in=chunked))
    assert single == chunked and len(set(single.values())) > 1


# --- Pages and API --------------------------------------------------------------------------


@pytest.fixture
def scored(owner):
    closed_history(owner, 1200, signal=True)
    scoring.train()
    good = LeadFactory(
        owner=owner, lead_source="web", decision_maker_identified=True, email="a@bigco.example"
    )
    bad = LeadFactory(owner=owner, lead_source="advertisement", email="b@gmail.com")
    scoring.score_leads(ids=[good.pk, bad.pk])
    good.refresh_from_db()
    bad.refresh_from_db()
    return good, bad


def test_the_lead_page_explains_the_score(client, owner, scored):
    good, _ = scored
    client.force_login(owner)
    page = client.get(reverse("leads:detail", args=[good.pk]))
    assert page.status_code == 200 and reverse("leads:score", args=[good.pk]) in page.text
    panel = client.get(reverse("leads:score", args=[good.pk]), HTTP_HX_REQUEST="true")
    text = panel.text
    assert panel.status_code == 200 and f">{good.score}<" in text
    assert "What raises it" in text and "Lead source is Web: " in text
    assert 'data-testid="score-chart"' in text and "<!doctype" not in text.lower()
    whole = client.get(reverse("leads:score", args=[good.pk]))
    assert "<!doctype" in whole.text.lower()  # opened directly: a page of its own


def test_my_open_leads_scored_lists_the_best_first(client, owner, scored):
    good, bad = scored
    client.force_login(owner)
    page = client.get(reverse("leads:list"), {"view": "scored"})
    assert page.status_code == 200
    rows = [lead.pk for lead in page.context["page"].object_list]
    assert rows.index(good.pk) < rows.index(bad.pk)
    ascending = client.get(reverse("leads:list"), {"view": "open", "sort": "score"})
    rows = [lead.pk for lead in ascending.context["page"].object_list]
    assert rows.index(bad.pk) < rows.index(good.pk)


def test_the_api_gives_the_score_grade_trend_and_reasons(owner, scored):
    from tests.api.test_leads_api import client_for

    good, _ = scored
    client = client_for(owner)
    lead = client.get(reverse("api:lead", args=[good.pk])).json()
    assert (lead["score"], lead["score_grade"], lead["score_trend"]) == (
        good.score,
        good.score_grade,
        "steady",
    )
    why = client.get(reverse("api:lead_score", args=[good.pk])).json()
    assert why["score"] == good.score and why["history"][0]["score"] == good.score
    assert why["base"] + sum(r["points"] for r in why["reasons"]) == good.score
    unscored = LeadFactory(owner=owner)
    assert client.get(reverse("api:lead", args=[unscored.pk])).json()["score"] is None


def test_the_admin_retrains_in_the_background(admin_client, owner):
    closed_history(owner, 600, signal=True)
    response = admin_client.post(reverse("admin:leads_scoringmodel_retrain"))
    assert response.status_code == 302
    assert jobs.run_queued() >= 1
    model = ScoringModel.objects.get()
    assert model.is_published
    listed = admin_client.get(reverse("admin:leads_scoringmodel_change", args=[model.pk]))
    assert listed.status_code == 200 and "<meter" in listed.text


def test_the_settings_refuse_a_field_the_model_cannot_read(admin_client):
    settings = ScoringSettings.load()
    url = reverse("admin:leads_scoringsettings_change", args=[settings.pk])
    response = admin_client.post(
        url,
        {
            "window_days": 730,
            "grade_a": 70,
            "grade_b": 50,
            "grade_c": 30,
            "extra_fields": '["email"]',
        },
    )
    assert response.status_code == 200 and "cannot be added" in response.text
    response = admin_client.post(
        url, {"window_days": 30, "grade_a": 70, "grade_b": 50, "grade_c": 30, "extra_fields": "[]"}
    )
    assert response.status_code == 200
    ScoringSettings.objects.get(window_days=730)


def test_a_model_published_by_another_process_is_used_at_once(owner):
    closed_history(owner, 1200, signal=True)
    first = scoring.train()
    lead = LeadFactory(owner=owner, lead_source="web")
    scoring.score_leads(ids=[lead.pk])  # this process now holds the first model
    lead.refresh_from_db()
    assert lead.score_grade in "ABCD"
    # Another process publishes a model whose grade thresholds make every lead a D.
    ScoringModel.objects.filter(pk=first.pk).update(is_published=False)
    ScoringModel.objects.create(
        window_start=first.window_start,
        quality=first.quality,
        is_published=True,
        content={**first.content, "grades": [101, 101, 101]},
    )
    Lead.objects.filter(pk=lead.pk).update(score=-1)
    scoring.score_leads(ids=[lead.pk])
    lead.refresh_from_db()
    assert lead.score_grade == "D"


@pytest.mark.parametrize(
    "title, level",
    [
        ("Director of IT", "director"),
        ("Sales Director", "director"),
        ("Managing Director", "director"),
        ("Vice President of Sales", "head"),
        ("VP, Sales", "head"),
        ("Head of Operations", "head"),
        ("Marketing Coordinator", "staff"),
        ("Product Owner", "staff"),
        ("Leadership Coach", "staff"),
        ("CTO", "executive"),
        ("President & CEO", "executive"),
        ("Co-Founder", "executive"),
        ("Chief Revenue Officer", "executive"),
        ("IT Manager", "manager"),
        ("Team Lead", "manager"),
        ("Engineer", "staff"),
        ("", scoring.NONE),
    ],
)
def test_a_job_title_is_read_by_its_whole_words(title, level):
    lead = LeadFactory(job_title=title)
    found = Lead.objects.filter(pk=lead.pk).annotate(level=scoring._seniority())
    assert found.values_list("level", flat=True).get() == level
