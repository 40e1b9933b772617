"""Word pools for generated events: believable titles, descriptions, places and tags."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    category: str
    topics: tuple[str, ...]
    formats: tuple[str, ...]
    tags: tuple[str, ...]
    price_range: tuple[int, int]  # whole currency units for paid tiers


THEMES = (
    Theme(
        "Music",
        ("Jazz", "Indie Rock", "Techno", "Classical", "Folk", "Hip-Hop", "Blues", "Soul"),
        ("Night", "Live", "Session", "Festival", "Showcase", "Open Air", "Concert"),
        ("live music", "concert", "jazz", "dj", "band", "festival", "acoustic", "vinyl"),
        (10, 90),
    ),
    Theme(
        "Technology",
        ("Python", "Rust", "Kubernetes", "PostgreSQL", "Machine Learning", "Web Security"),
        ("Meetup", "Workshop", "Conference", "Hackathon", "Study Group", "Summit"),
        ("python", "open source", "cloud", "ai", "databases", "devops", "web", "security"),
        (15, 400),
    ),
    Theme(
        "Business",
        ("Startup", "Marketing", "Product", "Leadership", "Fundraising", "E-commerce"),
        ("Breakfast", "Masterclass", "Networking Evening", "Forum", "Pitch Night"),
        ("networking", "startups", "marketing", "leadership", "sales", "finance"),
        (20, 300),
    ),
    Theme(
        "Arts & Culture",
        ("Photography", "Street Art", "Poetry", "Ceramics", "Film Noir", "Contemporary Art"),
        ("Exhibition", "Walk", "Reading", "Workshop", "Screening", "Gallery Night"),
        ("art", "photography", "film", "poetry", "gallery", "design", "crafts"),
        (5, 60),
    ),
    Theme(
        "Sports & Fitness",
        ("Yoga", "Trail Running", "Climbing", "Cycling", "Pilates", "Boxing"),
        ("Session", "Meetup", "Challenge", "Bootcamp", "Retreat", "Morning"),
        ("yoga", "running", "outdoors", "fitness", "wellbeing", "cycling", "climbing"),
        (5, 80),
    ),
    Theme(
        "Food & Drink",
        ("Natural Wine", "Street Food", "Sourdough", "Ramen", "Craft Beer", "Coffee"),
        ("Tasting", "Market", "Supper Club", "Masterclass", "Crawl", "Pop-up"),
        ("food", "wine", "beer", "cooking", "tasting", "coffee", "vegan"),
        (10, 120),
    ),
    Theme(
        "Education",
        ("Spanish", "Public Speaking", "Data Literacy", "Creative Writing", "History"),
        ("Course", "Lecture", "Workshop", "Class", "Bootcamp", "Seminar"),
        ("learning", "languages", "writing", "career", "science", "history"),
        (0, 150),
    ),
    Theme(
        "Community",
        ("Neighbourhood", "Gardening", "Board Game", "Book Club", "Repair Café", "Volunteer"),
        ("Meetup", "Evening", "Swap", "Picnic", "Gathering", "Day"),
        ("community", "volunteering", "games", "books", "sustainability", "family"),
        (0, 20),
    ),
    Theme(
        "Health & Wellbeing",
        ("Mindfulness", "Breathwork", "Sleep", "Nutrition", "Sound Bath", "Meditation"),
        ("Session", "Retreat", "Talk", "Workshop", "Circle", "Day"),
        ("wellbeing", "meditation", "health", "mindfulness", "nutrition"),
        (5, 150),
    ),
    Theme(
        "Film",
        ("Documentary", "Short Film", "Animation", "Horror", "Silent Film", "World Cinema"),
        ("Screening", "Festival", "Premiere", "Q&A Night", "Marathon", "Club"),
        ("film", "cinema", "documentary", "animation", "premiere"),
        (6, 40),
    ),
)

# (city, IANA time zone, currency)
CITIES = (
    ("Berlin", "Europe/Berlin", "EUR"),
    ("Hamburg", "Europe/Berlin", "EUR"),
    ("Munich", "Europe/Berlin", "EUR"),
    ("London", "Europe/London", "GBP"),
    ("Manchester", "Europe/London", "GBP"),
    ("Paris", "Europe/Paris", "EUR"),
    ("Lyon", "Europe/Paris", "EUR"),
    ("Amsterdam", "Europe/Amsterdam", "EUR"),
    ("Madrid", "Europe/Madrid", "EUR"),
    ("Barcelona", "Europe/Madrid", "EUR"),
    ("Rome", "Europe/Rome", "EUR"),
    ("Vienna", "Europe/Vienna", "EUR"),
    ("Stockholm", "Europe/Stockholm", "EUR"),
    ("Warsaw", "Europe/Warsaw", "EUR"),
    ("Dublin", "Europe/Dublin", "EUR"),
    ("Lisbon", "Europe/Lisbon", "EUR"),
    ("New York", "America/New_York", "USD"),
    ("Chicago", "America/Chicago", "USD"),
    ("Austin", "America/Chicago", "USD"),
    ("San Francisco", "America/Los_Angeles", "USD"),
    ("Seattle", "America/Los_Angeles", "USD"),
    ("Toronto", "America/Toronto", "USD"),
    ("Mexico City", "America/Mexico_City", "USD"),
    ("São Paulo", "America/Sao_Paulo", "USD"),
    ("Buenos Aires", "America/Argentina/Buenos_Aires", "USD"),
    ("Sydney", "Australia/Sydney", "USD"),
    ("Tokyo", "Asia/Tokyo", "JPY"),
    ("Singapore", "Asia/Singapore", "USD"),
    ("Mumbai", "Asia/Kolkata", "INR"),
    ("Bangalore", "Asia/Kolkata", "INR"),
    ("Nairobi", "Africa/Nairobi", "USD"),
    ("Cape Town", "Africa/Johannesburg", "USD"),
)
STREETS = (
    "Market Street", "High Street", "Harbour Road", "Station Square", "Park Avenue",
    "Mill Lane", "Church Street", "River Walk", "Garden Row", "Old Town Square",
)  # fmt: skip
VENUES = (
    "Hall", "Warehouse", "Loft", "Studio", "Library", "Gallery", "Club", "Theatre",
    "Community Centre", "Rooftop", "Garden", "Auditorium",
)  # fmt: skip
ADJECTIVES = (
    "Sunset", "Late", "Friday", "Spring", "Summer", "Autumn", "Winter", "Weekend",
    "Intro to", "Advanced", "Beginners'", "Open", "Grand", "Little", "Midweek",
)  # fmt: skip
SENTENCES = (
    "Join us for an evening of {topic} with people who love it as much as you do.",
    "Whether you are new to {topic} or a regular, there is a place for you here.",
    "We start with a short welcome, then dive into {topic} for the rest of the {format}.",
    "Expect friendly hosts, good conversation and plenty of {tag}.",
    "Doors open thirty minutes before the start; arrive early for the best spots.",
    "This {format} is organised by volunteers from the local {topic} scene.",
    "Bring a friend, a notebook and your curiosity about {topic}.",
    "Spaces are limited, so book early if you want to be sure of a place.",
    "Refreshments are available, including vegetarian and vegan options.",
    "The venue is step-free and has accessible toilets.",
)
BULLETS = (
    "A warm welcome and introductions",
    "Hands-on time with experienced hosts",
    "Q&A with the speakers",
    "Drinks and networking afterwards",
    "Take-home notes and resources",
    "A small surprise for early arrivals",
)
FIRST_NAMES = ("Ada", "Ravi", "Mia", "Kenji", "Zara", "Luca", "Amara", "Noah", "Ines", "Omar")
LAST_NAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kim")


def title_for(rng: random.Random, theme: Theme, city: str | None) -> tuple[str, str, str]:
    """A title, and the topic and format it was built from."""
    topic = rng.choice(theme.topics)
    fmt = rng.choice(theme.formats)
    style = rng.random()
    if style < 0.35 and city:
        title = f"{city} {topic} {fmt}"
    elif style < 0.7:
        title = f"{rng.choice(ADJECTIVES)} {topic} {fmt}"
    else:
        title = f"{topic} {fmt}: {rng.choice(('Vol.', 'Edition', 'No.'))} {rng.randint(2, 40)}"
    return title, topic, fmt


def description_for(rng: random.Random, topic: str, fmt: str, tags: list[str]) -> str:
    """A few Markdown paragraphs and a list, mentioning the topic and tags."""
    picks = rng.sample(SENTENCES, 5)
    fill = {"topic": topic.lower(), "format": fmt.lower(), "tag": rng.choice(tags)}
    first = " ".join(s.format(**fill) for s in picks[:3])
    second = " ".join(s.format(**fill) for s in picks[3:])
    bullets = "\n".join(f"- {b}" for b in rng.sample(BULLETS, 3))
    return f"**{topic} {fmt.lower()}** — {first}\n\n## What to expect\n\n{bullets}\n\n{second}"


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
