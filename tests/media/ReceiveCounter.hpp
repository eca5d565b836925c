// Decodes every RTP stream a webrtcbin outputs (depayloader ! decoder ! fakesink, built on
// the main thread) and counts what comes out of the decoders. Test code, used by
// WebRtcClient players and by the answering peers in tests. The pipeline's owner sets it
// to NULL (from the main thread) before destroying this.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <string>

namespace atrium::test {

class ReceiveCounter {
public:
  // Watches webrtcbin's pad-added; decoder branches are added to `pipeline`.
  ReceiveCounter(GstElement* pipeline, GstElement* webrtcbin);
  ~ReceiveCounter();
  ReceiveCounter(const ReceiveCounter&) = delete;
  ReceiveCounter& operator=(const ReceiveCounter&) = delete;

  uint64_t framesDecoded() const;        // video frames out of the video decoder(s)
  uint64_t audioBuffersDecoded() const;  // buffers out of the audio decoder(s)
  gint64 firstFrameTime() const;         // g_get_monotonic_time() of the first video frame, 0 if none
  gint64 lastFrameTime() const;
  uint64_t maxFrameGapUs() const;  // largest gap between consecutive video frames
  uint64_t keyframes() const;      // video keyframes out of the depayloader(s)
  // What a listener would hear: the RMS level of the last decoded audio buffer in dBFS
  // (-100 for digital silence), and how many decoded buffers were audible (above -50 dBFS).
  double audioLevelDb() const;
  uint64_t audibleAudioBuffers() const;
  // Sends a GstForceKeyUnit upstream from the video depayloader into webrtcbin, whose RTP
  // session turns it into a PLI (or FIR) to the sender. False when no video branch exists
  // yet. Main thread.
  bool RequestKeyframe();
  // Lets go of pads still waiting for their decoder; call before the pipeline goes to NULL.
  void Release();
  // Encoding names of the branches built so far ("VP8,OPUS"), in the order their first
  // packets arrived (not m-line order); main thread.
  std::string streams() const;

  // The last decoded video frame at (fx, fy), fractions of its width and height: Y, U, V
  // (0..255). False before the first frame. Any thread.
  bool SampleYuv(double fx, double fy, int yuv[3]) const;
  // videotestsrc's solid "red", "green" or "blue" at (fx, fy) of the last frame, told apart
  // by chroma (BT.601); "none" before the first frame, else "yuv(Y,U,V)".
  std::string ColourAt(double fx, double fy) const;
  // The size of the last decoded video frame (0 before the first). Any thread.
  int frameWidth() const;
  int frameHeight() const;
  // Amplitude (0..1 of full scale) of a tone at `hz` in the last half second of decoded
  // audio (Goertzel over the channels' mean). 0 before any audio. Any thread.
  double ToneAmplitude(double hz) const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atrium::test
