"""``podium suite``: a campaign file (system, division, category, round, the matrix of runs), its plan
(estimated durations and every prerequisite checked before anything runs), its runs in order through
``podium.suite.run_benchmark`` (resumable: a state file in the campaign's output folder), and at the end the
submission tree, the checker's verdict and the HTML report.

    load_campaign(path) -> Campaign        (schema-checked; CampaignError lists "file:line: field: message")
    make_plan(campaign) -> Plan            (the matrix, estimates, prerequisite problems)
    run_campaign(campaign, ...) -> CampaignResult
    CampaignState.load(campaign)           (what is done, failed, pending)
"""

from podium.campaign.model import BackendSpec, Campaign, RunSpec, RunSettings
from podium.campaign.plan import Plan, make_plan
from podium.campaign.rounds import ROUNDS, Round, get_round
from podium.campaign.schema import CampaignError, load_campaign
from podium.campaign.state import CampaignState, RunState
from podium.campaign.runner import CampaignResult, run_campaign

__all__ = ["ROUNDS", "BackendSpec", "Campaign", "CampaignError", "CampaignResult", "CampaignState", "Plan",
           "Round", "RunSettings", "RunSpec", "RunState", "get_round", "load_campaign", "make_plan",
           "run_campaign"]
