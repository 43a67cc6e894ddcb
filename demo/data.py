"""The demo data set behind `manage.py seed_demo`: the demo users, and a small
curated CRM with realistic names, every lead state and status reason,
opportunities at every stage, notes, activities and stakeholders. Built
through the services, so it obeys the same rules as real use. (The million
generated leads of the benchmarks come from benchmarks/generate.py.)"""

from __future__ import annotations

import math
import random
import unicodedata
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import Account, Contact
from activities.models import Activity, Connection, Note
from crm.choices import Industry, PurchaseProcess, PurchaseTimeframe
from crm.models import ProcessFlow, ProcessStage, ProcessStep
from leads import scoring
from leads import services as lead_services
from leads.models import Lead, LeadSource, Rating
from opportunities import services as opp_services

MARKER_EMAIL = "nancy.davolio@northwindtraders.example"

DEMO_USERS = [
    # username, first, last, role, superuser
    ("admin", "Ada", "Admin", None, True),
    ("manager", "Morgan", "Reyes", "Sales Manager", False),
    ("rep", "Riley", "Chen", "Sales Rep", False),
    ("rep2", "Sam", "Okafor", "Sales Rep", False),
]

FIRST_NAMES = [
    "Nancy",
    "Andrew",
    "Janet",
    "Margaret",
    "Steven",
    "Michael",
    "Robert",
    "Laura",
    "Anne",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Sophia",
    "Lucas",
    "Mia",
    "Ethan",
    "Isabella",
    "Mason",
    "Amelia",
    "Logan",
    "Harper",
    "Elijah",
    "Evelyn",
    "James",
    "Abigail",
    "Benjamin",
    "Emily",
    "Henry",
    "Ella",
    "Sebastian",
    "Chloe",
    "Jack",
    "Grace",
    "Daniel",
    "Zoe",
    "Matthew",
    "Lily",
    "Samuel",
    "Hannah",
    "David",
    "Nora",
    "Joseph",
    "Aria",
    "Carter",
    "Riley",
    "Owen",
    "Leah",
    "Wyatt",
    "Priya",
    "Arjun",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Fatima",
    "Omar",
    "Ingrid",
    "Lars",
    "Sofia",
    "Mateo",
    "Chiara",
    "Luca",
    "Aisha",
    "Kwame",
    "Ngozi",
    "Tomás",
    "Lucía",
]
LAST_NAMES = [
    "Davolio",
    "Fuller",
    "Leverling",
    "Peacock",
    "Buchanan",
    "Suyama",
    "King",
    "Callahan",
    "Dodsworth",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Patel",
    "Kim",
    "Tanaka",
    "Sato",
    "Müller",
    "Schmidt",
    "Rossi",
    "Bianchi",
    "Okafor",
    "Mensah",
    "Johansson",
    "Novak",
    "Dubois",
    "Silva",
]
COMPANY_WORDS = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Adventure",
    "Works",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Alpine",
    "Coho",
    "Fourth",
    "Coffee",
    "Humongous",
    "Lucerne",
    "Margie's",
    "Travel",
    "Trey",
    "Research",
    "Woodgrove",
    "Blue",
    "Yonder",
    "Graphic",
    "Design",
    "Institute",
    "Wide",
    "World",
    "Importers",
    "Southridge",
    "Video",
    "City",
    "Power",
    "Light",
    "Datum",
    "Relecloud",
    "Lamna",
    "Healthcare",
    "Munson's",
    "Pickles",
    "Nod",
    "Publishers",
    "Consolidated",
    "Messenger",
    "Bellows",
    "College",
    "Best",
    "For",
    "You",
    "Organics",
    "Liberty's",
    "Delightful",
    "School",
    "of",
    "Fine",
    "Art",
]
COMPANY_SUFFIXES = ("Ltd", "Inc.", "Corp", "Group", "LLC", "GmbH", "Partners", "Systems", "Co.")
TOPICS = (
    "Interested in {n} licences",
    "Needs a quote for {n} seats",
    "Asked about annual support for {n} users",
    "Trade show visitor: {n} units",
    "Website enquiry: pricing for {n} devices",
    "Renewal and expansion to {n} users",
    "Pilot of {n} terminals",
    "Replacement of {n} legacy systems",
    "Webinar follow-up: {n} seats",
    "Partner referral: {n} licences",
)
JOB_TITLES = (
    "Purchasing Manager",
    "IT Director",
    "CFO",
    "Operations Lead",
    "Office Manager",
    "Head of Procurement",
    "CTO",
    "Facilities Manager",
    "VP Sales",
    "Project Manager",
)

# (company, industry, city, country, [(first, last, title)])
ACCOUNTS = [
    (
        "Northwind Traders",
        "wholesale",
        "Seattle",
        "USA",
        [("Nancy", "Davolio", "Purchasing Manager"), ("Andrew", "Fuller", "VP Sales")],
    ),
    (
        "Contoso Ltd",
        "technology",
        "Redmond",
        "USA",
        [("Janet", "Leverling", "IT Director"), ("Steven", "Buchanan", "CTO")],
    ),
    (
        "Fabrikam Inc.",
        "manufacturing",
        "Chicago",
        "USA",
        [("Margaret", "Peacock", "Head of Procurement")],
    ),
    (
        "Adventure Works",
        "retail",
        "Bothell",
        "USA",
        [("Michael", "Suyama", "Operations Lead"), ("Robert", "King", "CFO")],
    ),
    ("Tailspin Toys", "retail", "London", "UK", [("Laura", "Callahan", "Office Manager")]),
    ("Wingtip Toys", "retail", "Manchester", "UK", [("Anne", "Dodsworth", "Project Manager")]),
    ("Litware Inc.", "technology", "Berlin", "Germany", [("Lukas", "Müller", "CTO")]),
    ("Coho Winery", "agriculture", "Napa", "USA", [("Olivia", "Garcia", "Owner")]),
    ("Fourth Coffee", "hospitality", "Portland", "USA", [("Liam", "Nguyen", "Operations Lead")]),
    ("Lucerne Publishing", "media", "Zurich", "Switzerland", [("Sofia", "Rossi", "CFO")]),
    (
        "Woodgrove Bank",
        "finance",
        "New York",
        "USA",
        [("Ethan", "Clark", "IT Director"), ("Mia", "Lewis", "Head of Procurement")],
    ),
    ("Relecloud", "technology", "Tokyo", "Japan", [("Hiroshi", "Tanaka", "VP Sales")]),
]


def demo_users() -> dict:
    """The demo users by user name (password = user name), created when missing."""
    User = get_user_model()
    users = {}
    for username, first, last, role, superuser in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@leadline.example",
                is_staff=superuser,
                is_superuser=superuser,
            )
            user.set_password(username)
            user.save()
            if role:
                user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def is_seeded() -> bool:
    return Lead.objects.filter(email=MARKER_EMAIL).exists()


def _company(rng: random.Random) -> str:
    return f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"


def ascii_name(text: str) -> str:
    """'Müller' -> 'muller': an email address's local part takes ASCII letters only."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _email(first: str, last: str, company: str) -> str:
    domain = "".join(ch for ch in company.lower() if ch.isalnum())[:20] or "example"
    return f"{ascii_name(first)}.{ascii_name(last)}@{domain}.example"


def _phone(rng: random.Random) -> str:
    return f"+1 {rng.randint(200, 989)} 555 {rng.randint(1000, 9999)}"


def seed(*, users: dict, rng: random.Random) -> None:
    reps = [users["rep"], users["rep2"], users["manager"]]
    accounts: list[Account] = []
    contacts: list[Contact] = []
    for i, (name, industry, city, country, people) in enumerate(ACCOUNTS):
        owner = reps[i % len(reps)]
        account = Account.objects.create(
            name=name,
            industry=industry,
            city=city,
            country=country,
            owner=owner,
            phone=_phone(rng),
            email=f"info@{name.split()[0].lower()}.example",
            website=f"https://www.{name.split()[0].lower()}.example",
        )
        accounts.append(account)
        for first, last, title in people:
            contacts.append(
                Contact.objects.create(
                    first_name=first,
                    last_name=last,
                    job_title=title,
                    account=account,
                    email=_email(first, last, name),
                    business_phone=_phone(rng),
                    owner=owner,
                )
            )

    leads: list[Lead] = []
    # The marker lead: open, for a known customer (existing contact and account).
    nancy = contacts[0]
    leads.append(
        lead_services.create_lead(
            user=users["rep"],
            topic="Expansion to the Tacoma warehouse",
            existing_contact=nancy,
            existing_account=nancy.account,
            lead_source=LeadSource.EXTERNAL_REFERRAL,
            rating=Rating.HOT,
            budget_amount=Decimal("48000"),
            currency="USD",
            purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
        )
    )
    # A lead whose company matches an existing account: qualifying shows a duplicate warning.
    leads.append(
        lead_services.create_lead(
            user=users["rep"],
            topic="Contoso: 250 field tablets",
            first_name="Priya",
            last_name="Patel",
            company_name="CONTOSO  ltd",
            job_title="Procurement Lead",
            email="priya.patel@contoso.example",
            lead_source=LeadSource.TRADE_SHOW,
            rating=Rating.HOT,
            budget_amount=Decimal("120000"),
            currency="USD",
        )
    )
    for n in range(40):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = _company(rng)
        owner = reps[n % len(reps)]
        leads.append(
            lead_services.create_lead(
                user=owner,
                topic=rng.choice(TOPICS).format(n=rng.choice((5, 10, 25, 50, 100, 250))),
                first_name=first,
                last_name=last,
                company_name=company,
                job_title=rng.choice(JOB_TITLES),
                email=_email(first, last, company),
                business_phone=_phone(rng),
                mobile_phone=_phone(rng) if n % 3 else "",
                lead_source=rng.choice(LeadSource.values),
                rating=rng.choice(Rating.values),
                industry=rng.choice(Industry.values),
                budget_amount=Decimal(rng.randrange(5_000, 250_000, 500)),
                currency=rng.choice(("USD", "USD", "EUR", "GBP")),
                purchase_timeframe=rng.choice(PurchaseTimeframe.values),
                purchase_process=rng.choice(PurchaseProcess.values),
                decision_maker_identified=rng.random() < 0.4,
                status_reason=rng.choice((Lead.StatusReason.NEW, Lead.StatusReason.CONTACTED)),
                description="Met at the spring expo; wants a demo before the end of the quarter."
                if n % 4 == 0
                else "",
            )
        )

    _timeline(leads, rng, contacts)

    # Disqualify with every reason.
    for lead, reason in zip(leads[2:10], list(Lead.DISQUALIFY_REASONS) * 2, strict=False):
        lead_services.disqualify_lead(lead=lead, user=lead.owner, reason=reason)
    # Qualify enough leads for opportunities at every stage and outcome.
    qualified = [
        lead_services.qualify_lead(lead=lead, user=lead.owner, ignore_duplicates=True)
        for lead in leads[10:22]
    ]
    # One qualified without an opportunity; one qualified then reactivated.
    lead_services.qualify_lead(
        lead=leads[22], user=leads[22].owner, create_opportunity=False, ignore_duplicates=True
    )
    lead_services.qualify_lead(lead=leads[23], user=leads[23].owner, ignore_duplicates=True)
    lead_services.reactivate_lead(lead=leads[23], user=leads[23].owner)

    _process_flows()
    opportunities = [r.opportunity for r in qualified if r.opportunity]
    today = timezone.localdate()
    for i, opp in enumerate(opportunities):
        user = opp.owner
        moves = 2 if i >= 9 else i % 3  # Develop, Propose, Close; closed ones at Close
        # What the rep knows by now: the board's amounts and dates, and the
        # Develop step a move past Develop needs (a required step, see below).
        revenue = opp.budget_amount or Decimal(5000 * (1 + i % 7))
        opp = opp_services.update_opportunity(
            opportunity=opp,
            user=user,
            estimated_revenue=revenue,
            estimated_close_date=today + timedelta(days=14 * (1 + i % 6)),
            **(
                {"customer_need": "Replace ageing devices before the busy season."} if moves else {}
            ),
        )
        for _ in range(moves):
            opp = opp_services.move_to_next_stage(opportunity=opp, user=user)
        if i in (9,):
            opp_services.close_opportunity(
                opportunity=opp, user=user, won=True, actual_revenue=opp.budget_amount
            )
        elif i == 10:
            opp_services.close_opportunity(
                opportunity=opp, user=user, won=False, status_reason="out_sold"
            )
        elif i == 11:
            opp_services.close_opportunity(
                opportunity=opp, user=user, won=False, status_reason="canceled"
            )

    # Two years of closed leads, and the scoring model they train: the open leads
    # get varied scores, each explained.
    _closed_history(reps, random.Random(rng.random()))
    scoring.train()
    scoring.score_leads()


# What made a closed lead of the demo history qualify (a planted signal the
# scoring model finds): the web and referrals, a known decision maker, a large
# budget and a company email help; a free-mail address and adverts do not.
HISTORY_SIGNAL = {
    LeadSource.WEB: 1.5,
    LeadSource.EXTERNAL_REFERRAL: 1.2,
    LeadSource.EMPLOYEE_REFERRAL: 0.9,
    LeadSource.ADVERTISEMENT: -1.2,
    LeadSource.OTHER: -0.8,
}
FREE_MAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com")


def _closed_history(reps: list, rng: random.Random, count: int = 360) -> None:
    """Two years of closed leads, through the services, then dated back: the
    history the lead scoring model trains on. Qualified without creating
    records (history only: the opportunities of the demo are above)."""
    now = timezone.now()
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        company = _company(rng)
        free = rng.random() < 0.35
        email = (
            f"{ascii_name(first)}.{ascii_name(last)}{n}@{rng.choice(FREE_MAIL_DOMAINS)}"
            if free
            else _email(first, last, company)
        )
        source = rng.choice(LeadSource.values)
        decision_maker = rng.random() < 0.45
        budget = rng.choice((5_000, 15_000, 40_000, 90_000, 200_000))
        owner = reps[n % len(reps)]
        lead = lead_services.create_lead(
            user=owner,
            owner=owner,
            topic=rng.choice(TOPICS).format(n=rng.choice((5, 10, 25, 50, 100, 250))),
            first_name=first,
            last_name=last,
            company_name=company,
            job_title=rng.choice(JOB_TITLES),
            email=email,
            business_phone=_phone(rng) if rng.random() < 0.8 else "",
            lead_source=source,
            rating=rng.choice(Rating.values),
            industry=rng.choice(Industry.values),
            budget_amount=Decimal(budget),
            currency="USD",
            purchase_timeframe=rng.choice(PurchaseTimeframe.values),
            purchase_process=rng.choice(PurchaseProcess.values),
            decision_maker_identified=decision_maker,
        )
        logit = -0.9 + HISTORY_SIGNAL.get(source, 0.0)
        logit += 1.4 if decision_maker else -0.4
        logit += 0.9 if budget >= 90_000 else (-0.5 if budget <= 5_000 else 0.0)
        logit -= 1.3 if free else 0.0
        created = now - timedelta(days=rng.uniform(20, 700))
        closed = created + timedelta(days=rng.uniform(2, 45))
        if rng.random() < 1 / (1 + math.exp(-logit)):
            lead_services.qualify_lead(
                lead=lead,
                user=owner,
                create_account=False,
                create_contact=False,
                create_opportunity=False,
                ignore_duplicates=True,
            )
            Lead.objects.filter(pk=lead.pk).update(
                created_at=created, qualified_at=closed, days_to_qualify=(closed - created).days
            )
        else:
            reason = rng.choice(Lead.DISQUALIFY_REASONS)
            lead_services.disqualify_lead(lead=lead, user=owner, reason=reason)
            Lead.objects.filter(pk=lead.pk).update(created_at=created, disqualified_at=closed)


def _process_flows() -> None:
    """A second flow to switch to, and a required step that gates Next stage
    (Customer need, in the default flow's Develop stage), to show both."""
    ProcessStep.objects.filter(stage__process__is_default=True, field_name="customer_need").update(
        is_required=True
    )
    flow, created = ProcessFlow.objects.get_or_create(
        name="Quick Sale Process",
        defaults={"description": "For small repeat orders: fewer stages, fewer steps."},
    )
    if not created:
        return
    for order, (name, entity, steps) in enumerate(
        [
            ("Qualify", "lead", [("Purchase timeframe", "purchase_timeframe")]),
            ("Quote", "opportunity", [("Proposed solution", "proposed_solution")]),
            ("Close", "opportunity", [("Confirm decision date", "final_decision_date")]),
        ],
        start=1,
    ):
        stage = ProcessStage.objects.create(
            process=flow, name=name, entity=entity, order=order * 10
        )
        for step_order, (step, field_name) in enumerate(steps, start=1):
            ProcessStep.objects.create(
                stage=stage, name=step, field_name=field_name, order=step_order * 10
            )


def _timeline(leads: list[Lead], rng: random.Random, contacts: list[Contact]) -> None:
    """Notes, every type of activity and stakeholders on the first leads (the
    stakeholders move to the opportunities of the leads qualified below)."""
    now = timezone.now()
    roles = Connection.Role.values
    for i, lead in enumerate(leads[:24]):
        Note.objects.create(
            lead=lead,
            author=lead.owner,
            title="Discovery call",
            text=f"{lead.first_name or 'They'} confirmed budget and asked for references. "
            "Follow up with a tailored proposal.",
        )
        Activity.objects.create(
            lead=lead,
            owner=lead.owner,
            type=Activity.Type.PHONE_CALL,
            subject=f"Call {lead.full_name or lead.company_name}",
            direction=Activity.Direction.OUTGOING,
            phone_number=lead.business_phone,
            due_at=now + timedelta(days=rng.randint(-3, 10)),
            status=Activity.Status.COMPLETED if i % 3 == 0 else Activity.Status.OPEN,
        )
        if i % 2 == 0:
            Activity.objects.create(
                lead=lead,
                owner=lead.owner,
                type=Activity.Type.TASK,
                subject="Send product brochure",
                priority=Activity.Priority.HIGH,
                due_at=now + timedelta(days=rng.randint(0, 7)),
            )
        if i % 3 == 1:
            Activity.objects.create(
                lead=lead,
                owner=lead.owner,
                type=Activity.Type.EMAIL,
                subject="Pricing and references",
                direction=Activity.Direction.OUTGOING,
                email_from=lead.owner.email,
                email_to=lead.email,
                due_at=now + timedelta(days=rng.randint(-1, 3)),
            )
        if i % 4 == 2:
            start = (now + timedelta(days=rng.randint(1, 14))).replace(
                hour=10, minute=0, second=0, microsecond=0
            )
            Activity.objects.create(
                lead=lead,
                owner=lead.owner,
                type=Activity.Type.APPOINTMENT,
                subject="Product demo",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                due_at=start,
                location="Customer site",
            )
        for contact in rng.sample(contacts, k=min(len(contacts), 1 + i % 2)):
            Connection.objects.get_or_create(
                lead=lead,
                contact=contact,
                defaults={"role": rng.choice(roles), "created_by": lead.owner},
            )
