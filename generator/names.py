"""Small vocabularies for readable synthetic people, content and user agents."""

from __future__ import annotations

FIRST_NAMES = (
    "Jane",
    "John",
    "Maria",
    "Ahmed",
    "Li",
    "Sofia",
    "Lukas",
    "Emma",
    "Noah",
    "Olivia",
    "Mateo",
    "Aisha",
    "Chen",
    "Priya",
    "Lars",
    "Ingrid",
    "Tomás",
    "Yuki",
    "Fatima",
    "Oliver",
    "Amara",
    "Jonas",
    "Elena",
    "Ravi",
    "Hannah",
    "Diego",
    "Zoe",
    "Kofi",
    "Anna",
    "Marco",
    "Sara",
    "Ivan",
    "Leila",
    "Finn",
    "Mei",
    "Omar",
    "Clara",
    "Arjun",
    "Nina",
    "Paul",
)
LAST_NAMES = (
    "Doe",
    "Smith",
    "Garcia",
    "Khan",
    "Wang",
    "Rossi",
    "Müller",
    "Johnson",
    "Brown",
    "Lee",
    "Silva",
    "Okafor",
    "Chen",
    "Patel",
    "Nielsen",
    "Berg",
    "Lopez",
    "Tanaka",
    "Hassan",
    "Taylor",
    "Mensah",
    "Schmidt",
    "Ivanova",
    "Kumar",
    "Fischer",
    "Moreno",
    "Clark",
    "Owusu",
    "Novak",
    "Bianchi",
)
TITLES = {
    "Sales": ("Account Executive", "Sales Director", "SDR", "Sales Engineer"),
    "Marketing": ("Content Marketer", "Marketing Manager", "Brand Lead", "Demand Gen Manager"),
    "Engineering": ("Software Engineer", "Staff Engineer", "Engineering Manager", "SRE"),
    "Customer Success": ("CSM", "Support Lead", "Onboarding Specialist"),
    "Product": ("Product Manager", "Designer", "Product Director"),
    "Finance": ("Controller", "Financial Analyst"),
    "People": ("Recruiter", "People Partner"),
    "Operations": ("Operations Manager", "Office Manager", "IT Admin"),
}
PROSPECT_DOMAINS = (
    "example.com",
    "northwind.example",
    "contoso.example",
    "initech.example",
    "globex.example",
    "umbrella.example",
    "hooli.example",
    "stark.example",
    "wayne.example",
    "tyrell.example",
)
TOPICS = ("product", "customers", "engineering", "culture", "events", "industry", "careers")
CAMPAIGNS = ("spring-launch", "summit-2025", "q3-pipeline", "hiring-push", "year-in-review")
TITLE_WORDS = (
    "How",
    "Why",
    "What",
    "Inside",
    "Lessons from",
    "A guide to",
    "The state of",
    "Meet",
)
TITLE_SUBJECTS = (
    "data pipelines",
    "our new release",
    "customer onboarding",
    "remote teams",
    "AI in sales",
    "event sourcing",
    "the summit",
    "our engineers",
    "pricing",
    "security reviews",
)
FORMS = ("demo-request", "ebook-download", "webinar-signup", "contact-us", "newsletter")

HUMAN_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
)
HUMAN_UA_WEIGHTS = (0.34, 0.14, 0.22, 0.16, 0.06, 0.08)
BOT_USER_AGENTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "python-requests/2.31.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.0.0 "
    "Safari/537.36",
    "curl/8.5.0",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
)
BOT_UA_WEIGHTS = (0.15, 0.08, 0.4, 0.1, 0.12, 0.05, 0.1)
