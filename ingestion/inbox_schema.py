"""The canonical survey and complaint rows: fields, scales and value sets.

These are the domain's own definitions (the LGA resident-satisfaction question set and the
council complaints process); each layout file in ``layouts/`` maps a supplier's column names
and labels onto them.
"""

from __future__ import annotations

DONT_KNOW = 9  # the answer code for "Don't know"; 1 is always the most positive answer

# LGA benchmarking question set: question -> scale; a scale lists its answers, most positive first.
SCALES: dict[str, tuple[str, ...]] = {
    "satisfaction": ("very_satisfied", "fairly_satisfied", "neither", "fairly_dissatisfied", "very_dissatisfied"),
    "agreement": ("strongly_agree", "tend_to_agree", "neither", "tend_to_disagree", "strongly_disagree"),
    "informed": ("very_well_informed", "fairly_well_informed", "not_very_well_informed", "not_at_all_informed"),
    "trust": ("a_great_deal", "a_fair_amount", "not_very_much", "not_at_all"),
}
QUESTIONS: dict[str, str] = {
    "q_local_area": "satisfaction",
    "q_runs_things": "satisfaction",
    "q_value_for_money": "agreement",
    "q_acts_on_concerns": "agreement",
    "q_kept_informed": "informed",
    "q_trust": "trust",
}

SURVEY_FIELDS = (
    "respondent_id",
    "fieldwork_start",
    "fieldwork_end",
    "weight",
    "age_band",
    "sex",
    "ethnicity",
    "disability",
    "ward",
    *QUESTIONS,
)
SURVEY_REQUIRED = ("respondent_id", "fieldwork_start", "fieldwork_end", "weight")

COMPLAINT_FIELDS = (
    "complaint_id",
    "received_date",
    "stage",
    "service",
    "channel",
    "theme",
    "summary",
    "due_date",
    "responded_date",
    "outcome",
    "ward",
    "age_band",
    "sex",
    "ethnicity",
    "disability",
)
COMPLAINT_REQUIRED = ("complaint_id", "received_date", "stage", "service")

# Canonical value sets. Demographic bands follow the ONS harmonised standards (broad groups).
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "age_band": ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+", "Prefer not to say"),
    "sex": ("Female", "Male", "Other", "Prefer not to say"),
    "ethnicity": (
        "White British",
        "White other",
        "Mixed or multiple",
        "Asian or Asian British",
        "Black or Black British",
        "Other ethnic group",
        "Prefer not to say",
    ),
    "disability": ("Yes", "No", "Prefer not to say"),
    "stage": ("1", "2", "ombudsman"),
    "outcome": ("upheld", "partly_upheld", "not_upheld", "withdrawn"),
}
