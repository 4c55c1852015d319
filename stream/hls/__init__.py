"""Live HLS from the one programme (docs/video.md "HLS"): a ladder of renditions, each cut into
CMAF (fragmented MP4) segments of one second made of parts of about 200 ms, with RFC 8216 media
playlists that also carry Apple's low-latency tags, and one multivariant playlist over them.

On disk, under the session's live folder (`<data>/live/<session>/`):
    index.m3u8               the multivariant playlist (one line per rendition)
    <rendition>/init.mp4     the rendition's initialisation section (EXT-X-MAP)
    <rendition>/<msn>.m4s    a whole segment, named by its media sequence number
    <rendition>/<msn>.<part>.m4s   its parts (kept for the last few segments only)
    <rendition>/index.m3u8   the live media playlist, with parts
    <rendition>/state.json   what a restarted segmenter needs to go on numbering where it stopped
Every file is written under a temporary name and renamed into place, so a reader never sees half."""
