"""What leaves the call: SMS notes to merchants and alerts to staff's chat group, queued and sent later."""
