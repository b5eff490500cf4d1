"""COAR Notify 1.0.1 over Linked Data Notifications: the node's inbox, its outbox and the review story.

``partners`` is the allow-list (peers and configured services), ``parsing`` reads and validates a notification
with the ``coarnotify`` library and the node's own rules (``urls``), ``inbox`` stores what arrives and hands
it to a ``handlers.Handler``, ``outbox`` sends with retries, ``reviews`` holds what people do from the pages
(request a review, accept, reject, announce a review, undo) and what the landing page shows.
"""
