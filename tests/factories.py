"""factory-boy factories for every model, building valid objects with realistic data."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.models import Account, Contact
from activities.models import Activity, Connection, Note
from crm import process
from crm.models import Currency
from leads.models import Lead, LeadSource, Rating
from opportunities.models import Opportunity


def currency(code: str = "USD") -> Currency:
    return Currency.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@leadline.example")
    password = factory.django.Password("password")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """`UserFactory(role="Sales Manager")` puts the user in that group."""
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class RepFactory(UserFactory):
    """A user in the Sales Rep role."""

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=extracted or "Sales Rep"))


class ManagerFactory(UserFactory):
    """A user in the Sales Manager role."""

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=extracted or "Sales Manager"))


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    email = factory.Faker("company_email")
    phone = factory.Faker("phone_number")
    owner = factory.SubFactory(RepFactory)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttributeSequence(
        lambda c, n: f"{c.first_name}.{c.last_name}{n}@example.com".lower()
    )
    job_title = factory.Faker("job")
    business_phone = factory.Faker("phone_number")
    owner = factory.SubFactory(RepFactory)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    topic = factory.Faker("catch_phrase")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company_name = factory.Sequence(lambda n: f"Company {n} Ltd")
    job_title = factory.Faker("job")
    email = factory.LazyAttributeSequence(
        lambda lead, n: f"{lead.first_name}.{lead.last_name}.{n}@prospect.example".lower()
    )
    business_phone = factory.Faker("phone_number")
    lead_source = LeadSource.WEB
    rating = Rating.WARM
    owner = factory.SubFactory(RepFactory)
    stage = factory.LazyFunction(process.first_lead_stage)

    class Params:
        qualified = factory.Trait(
            state=Lead.State.QUALIFIED, status_reason=Lead.StatusReason.QUALIFIED
        )
        disqualified = factory.Trait(
            state=Lead.State.DISQUALIFIED, status_reason=Lead.StatusReason.LOST
        )


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Faker("catch_phrase")
    account = factory.SubFactory(AccountFactory)
    currency = factory.LazyFunction(currency)
    owner = factory.SubFactory(RepFactory)
    stage = factory.LazyFunction(process.first_opportunity_stage)


def _regarding_owner(obj):
    return (obj.lead or obj.account or obj.contact or obj.opportunity).owner


def _default_lead(obj):
    # A note or activity regards exactly one record: a new lead unless another was given.
    return None if (obj.account or obj.contact or obj.opportunity) else LeadFactory()


class NoteFactory(factory.django.DjangoModelFactory):
    """A note on a lead (or on the account, contact or opportunity passed)."""

    class Meta:
        model = Note

    account = None
    contact = None
    opportunity = None
    lead = factory.LazyAttribute(_default_lead)
    title = factory.Faker("sentence", nb_words=4)
    text = factory.Faker("paragraph")
    author = factory.LazyAttribute(_regarding_owner)


class ActivityFactory(factory.django.DjangoModelFactory):
    """An open activity on a lead (or on the account, contact or opportunity passed)."""

    class Meta:
        model = Activity

    account = None
    contact = None
    opportunity = None
    lead = factory.LazyAttribute(_default_lead)
    type = Activity.Type.PHONE_CALL
    subject = factory.Faker("sentence", nb_words=5)
    owner = factory.LazyAttribute(_regarding_owner)


class ConnectionFactory(factory.django.DjangoModelFactory):
    """A stakeholder of a lead (or of the opportunity passed)."""

    class Meta:
        model = Connection

    opportunity = None
    lead = factory.LazyAttribute(lambda o: None if o.opportunity else LeadFactory())
    contact = factory.SubFactory(ContactFactory)
