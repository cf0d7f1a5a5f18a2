// Live video and audio on demand: `watch` asks the server for a candidate's stream; the server
// answers `rtc_offer` {attempt, sdp}; the page answers `rtc_answer` {attempt, sdp} from an
// RTCPeerConnection (ICE gathered before answering; `rtc_ice` from the server is added as it
// comes). A server that refuses `watch` (not_allowed) is shown as "live video not available".

const GATHER_MS = 2000;

export class Videos {
  constructor({ feed, onChange }) {
    this.feed = feed;
    this.onChange = onChange; // (attempt, stream | null, note) -> void
    this.streams = new Map(); // attempt -> MediaStream (what the <video> elements show)
    this.peers = new Map(); // attempt -> RTCPeerConnection
  }

  get(attempt) { return this.streams.get(attempt) || null; }
  watching(attempt) { return this.peers.has(attempt) || this.streams.has(attempt); }

  async watch(attempt) {
    this.onChange(attempt, null, "connecting");
    try {
      await this.feed.command("watch", { attempt });
    } catch (err) {
      this.stop(attempt, false);
      this.onChange(attempt, null, err.code === "not_allowed" ? "unavailable" : "failed");
    }
  }

  unwatch(attempt) {
    this.stop(attempt, true);
    this.onChange(attempt, null, "");
  }

  stop(attempt, tell) {
    const pc = this.peers.get(attempt);
    if (pc) pc.close();
    this.peers.delete(attempt);
    this.streams.delete(attempt);
    if (tell) this.feed.command("unwatch", { attempt }).catch(() => {});
  }

  async media(m) {
    if (m.type === "rtc_ice") {
      const pc = this.peers.get(m.attempt);
      if (pc && m.candidate) {
        await pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.sdp_mid, sdpMLineIndex: m.sdp_mline_index }).catch(() => {});
      }
      return;
    }
    if (m.type !== "rtc_offer") return;
    const old = this.peers.get(m.attempt);
    if (old) old.close();
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.peers.set(m.attempt, pc);
    pc.ontrack = (ev) => {
      const stream = ev.streams[0] || new MediaStream([ev.track]);
      this.streams.set(m.attempt, stream);
      this.onChange(m.attempt, stream, "");
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "failed") { this.stop(m.attempt, true); this.onChange(m.attempt, null, "failed"); }
    };
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: m.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      this.feed.post({ type: "rtc_answer", attempt: m.attempt, sdp: pc.localDescription.sdp });
    } catch {
      this.stop(m.attempt, true);
      this.onChange(m.attempt, null, "failed");
    }
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(timer); pc.removeEventListener("icegatheringstatechange", check); resolve(); };
    const check = () => { if (pc.iceGatheringState === "complete") done(); };
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}
