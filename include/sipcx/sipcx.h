/* sipcx: SIP phones in a few lines of C. The umbrella header. */
#ifndef SIPCX_H
#define SIPCX_H

#include <sipcx/base.h>
#include <sipcx/sockaddr.h>
#include <sipcx/uri.h>
#include <sipcx/header.h>
#include <sipcx/msg.h>
#include <sipcx/sdp.h>
#include <sipcx/rtp.h>
#include <sipcx/g711.h>
#include <sipcx/codec.h>
#include <sipcx/wav.h>
#include <sipcx/dsp.h>
#include <sipcx/txn.h>
#include <sipcx/dialog.h>
#include <sipcx/transport.h>
#include <sipcx/trace.h>
#include <sipcx/ladder.h>
#include <sipcx/pcap.h>
#include <sipcx/hep.h>
#include <sipcx/auth.h>
#include <sipcx/ua.h>
#include <sipcx/media.h>
#include <sipcx/reg.h>
#include <sipcx/call.h>
#include <sipcx/ctx.h>
#include <sipcx/phone.h>

#endif
