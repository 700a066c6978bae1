"""
The local AWS endpoint: moto's server, with each DynamoDB request applied atomically.

moto's server answers requests on several threads and its DynamoDB backend takes no lock. A
TransactWriteItems copies every table it names first and, when one of its conditions fails, puts
the copies back: every write another request made to those tables meanwhile is undone (a
retention item an upload had created vanished beside a refused legal-hold transaction), or the
copy fails on a table another request is changing and the answer is a server error. A
conditional write reads and writes in two steps. DynamoDB applies each request atomically, so
this server runs every request of the DynamoDB backend under one lock; the other services are
moto's own.

Usage: python moto_server_atomic.py [moto_server arguments]
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()


def _atomic(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    return locked


for _name, _member in list(vars(DynamoDBBackend).items()):
    if not _name.startswith("_") and callable(_member):
        setattr(DynamoDBBackend, _name, _atomic(_member))

if __name__ == "__main__":
    main(sys.argv[1:])
