"""Voice signalling: WebRTC offers, ICE, mute and hang-up for the call one is in."""

from server.features.voice.feature import VoiceSignalling

__all__ = ["VoiceSignalling"]
