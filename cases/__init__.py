"""Cases: flagged site → case, the daily flagged-site list; later referrals, re-checks, evidence export."""
