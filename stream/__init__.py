"""Live video: WHIP ingest, relay, HLS and recording (see the video issue)."""
