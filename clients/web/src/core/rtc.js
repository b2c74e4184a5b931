// WebRTC helpers every voice path shares (desk calls, the event stage): the server's
// aiortc is the only peer, signalled over our WebSocket without trickle ICE.
//
//   await iceGatheringComplete(pc);   // then send pc.localDescription once
//   await audioStats(pc)              // {state, outbound, inbound: [...]} from getStats()

const ICE_GATHER_TIMEOUT_MS = 5000;

/** Resolves when ICE gathering is complete, or after ``timeoutMs``: loopback-only or odd
 * networks may never say 'complete', and then we send what we have. */
export function iceGatheringComplete(pc, timeoutMs = ICE_GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => { if (pc.iceGatheringState === 'complete') done(); };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** A summary of getStats(): what we send, and each inbound audio stream. */
export async function audioStats(pc) {
  const report = await pc.getStats();
  const out = { state: pc.connectionState, outbound: null, inbound: [] };
  report.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.outbound = { bytesSent: s.bytesSent ?? 0, packetsSent: s.packetsSent ?? 0 };
    } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.inbound.push({
        mid: s.mid ?? null,
        packetsReceived: s.packetsReceived ?? 0,
        bytesReceived: s.bytesReceived ?? 0,
        audioLevel: s.audioLevel ?? 0,
        totalAudioEnergy: s.totalAudioEnergy ?? 0,
      });
    }
  });
  return out;
}
