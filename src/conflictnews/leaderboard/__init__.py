"""Stage 6: the leaderboard (submissions, scoring, ranking, web page and API)."""
