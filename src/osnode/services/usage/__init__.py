"""Usage statistics the COUNTER way (Code of Practice R5.1 and the Code of Practice for Research Data).

``events`` notes what a reader did (an investigation: a landing page; a request: a download) in the day's
event log, robots left out and scripts marked Machine, with no IP address, only a hash salted per day;
``counting`` turns a closed day's log into the COUNTER metrics (double clicks, sessions, uniques) added to the
monthly aggregates, and deletes the log and its salt; ``reports`` serves the R5.1 item report and the numbers a
landing page shows; ``federation`` shares the aggregates of copies with their origin node.
"""
