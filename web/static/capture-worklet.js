// AudioWorklet processor "pcm16-capture": mixes the microphone down to
// mono, resamples it from the context's rate (whatever the device gives:
// 44.1, 48, 16 kHz…) to processorOptions.targetRate (default 24 kHz) with a
// windowed-sinc low-pass interpolator, and posts PCM16 chunks of
// processorOptions.chunkMs (default 40 ms) with their RMS and peak level:
// {pcm: ArrayBuffer, rms: number, peak: number}.

const ZERO_CROSSINGS = 12; // kernel half-width, in periods of the cutoff
const TABLE_STEPS = 256;   // kernel values per input sample (linearly interpolated)

// Resampler is a streaming band-limited interpolator: each output sample is
// the input convolved with a Blackman-windowed sinc centred on the output
// instant. The cutoff sits a little below the lower of the two Nyquist
// rates, so downsampling does not alias and upsampling adds no images.
class Resampler {
  constructor(inRate, outRate) {
    this.passThrough = inRate === outRate;
    this.step = inRate / outRate; // input samples per output sample
    const fc = Math.min(1, outRate / inRate) * 0.94; // cutoff, fraction of the input Nyquist
    this.half = Math.ceil(ZERO_CROSSINGS / fc);    // kernel half-width in input samples
    const n = this.half * TABLE_STEPS;
    this.table = new Float32Array(n + 2);
    for (let i = 0; i <= n; i++) {
      const x = i / TABLE_STEPS;
      const u = x / this.half;
      const w = 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
      const a = Math.PI * fc * x;
      this.table[i] = fc * (x === 0 ? 1 : Math.sin(a) / a) * w;
    }
    this.buf = new Float32Array(16384);
    this.len = 0;  // valid samples in buf
    this.base = 0; // absolute input index of buf[0]
    this.t = 0;    // absolute input position of the next output sample
  }

  kernel(x) {
    const p = x * TABLE_STEPS;
    const i = p | 0;
    return this.table[i] + (p - i) * (this.table[i + 1] - this.table[i]);
  }

  // push adds input samples and calls emit for every output sample that
  // now has all the input it depends on.
  push(input, emit) {
    if (this.passThrough) {
      for (let i = 0; i < input.length; i++) emit(input[i]);
      return;
    }
    this.append(input);
    const last = this.base + this.len - 1;
    while (Math.floor(this.t) + this.half <= last) {
      const c = Math.floor(this.t);
      let acc = 0;
      for (let k = Math.max(c - this.half + 1, this.base); k <= c + this.half; k++) {
        acc += this.buf[k - this.base] * this.kernel(Math.abs(this.t - k));
      }
      emit(acc);
      this.t += this.step;
    }
  }

  append(input) {
    if (this.len + input.length > this.buf.length) {
      // Drop what no future output needs, then grow if that is not enough.
      const drop = Math.max(0, Math.min(this.len, Math.floor(this.t) - this.half + 1 - this.base));
      this.buf.copyWithin(0, drop, this.len);
      this.len -= drop;
      this.base += drop;
      if (this.len + input.length > this.buf.length) {
        const bigger = new Float32Array(2 * (this.len + input.length));
        bigger.set(this.buf.subarray(0, this.len));
        this.buf = bigger;
      }
    }
    this.buf.set(input, this.len);
    this.len += input.length;
  }
}

class PCM16Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    const outRate = o.targetRate || 24000;
    this.resampler = new Resampler(sampleRate, outRate);
    this.size = Math.max(1, Math.round((outRate * (o.chunkMs || 40)) / 1000));
    this.chunk = new Int16Array(this.size);
    this.n = 0;
    this.sumSq = 0;
    this.peak = 0;
    this.mono = new Float32Array(128);
    this.emit = (s) => {
      const v = s > 1 ? 1 : s < -1 ? -1 : s;
      this.chunk[this.n++] = v < 0 ? Math.round(v * 0x8000) : Math.round(v * 0x7fff);
      this.sumSq += v * v;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
      if (this.n === this.size) this.flush();
    };
  }

  flush() {
    const rms = Math.sqrt(this.sumSq / this.n);
    const pcm = this.chunk.buffer;
    this.port.postMessage({ pcm, rms, peak: this.peak }, [pcm]);
    this.chunk = new Int16Array(this.size);
    this.n = 0;
    this.sumSq = 0;
    this.peak = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const frames = input[0].length;
      if (this.mono.length !== frames) this.mono = new Float32Array(frames);
      if (input.length === 1) {
        this.mono.set(input[0]);
      } else {
        this.mono.fill(0);
        for (const ch of input) for (let i = 0; i < frames; i++) this.mono[i] += ch[i];
        for (let i = 0; i < frames; i++) this.mono[i] /= input.length;
      }
      this.resampler.push(this.mono, this.emit);
    }
    return true;
  }
}

registerProcessor("pcm16-capture", PCM16Capture);
