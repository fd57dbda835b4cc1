"""Operations: run-health checks and alerts, recurring crawls (locally or on scrapyd), and
the HTML report. What an operator runs day after day, around the crawls themselves.
"""
