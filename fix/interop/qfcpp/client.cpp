// client.cpp is a scripted QuickFIX C++ initiator that trades on `venue dev`:
// the interop proof that the venue speaks FIX 4.4 to an engine it was not
// written with. interop_test.go compiles it, runs it and checks its output.
//
//   client SETTINGS_FILE
//
// SETTINGS_FILE is client.cfg.tmpl with its placeholders filled in; it names
// two order-entry sessions, FIRM_A and FIRM_B, towards VENUE. The scenario
// (logon, new, replace, cancel of an unknown order, cancel by another firm,
// a duplicate ClOrdID, a status request, a cross between the two firms,
// cancel of the rest, a price off the tick, logout) runs without
// interaction. Each step waits for the venue's answer before the next one.
//
// Output, one line each, flushed at once:
//   STEP <name>                       a step starts (its requests follow)
//   APP <CompID> <raw FIX, | for SOH>  an application message received
//   ADMIN <CompID> <raw FIX>           an admin message received
//   LOGON <CompID> / LOGOUT <CompID>   QuickFIX's session callbacks
//   TIMEOUT <step> <what>              an awaited answer did not come
//   DONE <timeouts>                    the scenario ended
// The exit code is 0 when every awaited answer came, 1 otherwise, 2 on a
// setup error. Prices and quantities are sent as decimal strings, never
// through a double.

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

const char *const kSymbol = "BTC-USD";
const std::chrono::seconds kAnswerTimeout(5);

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

// field returns the value of tag in m, or "" when it is absent.
std::string field(const FIX::Message &m, int tag) {
  if (m.isSetField(tag))
    return m.getField(tag);
  if (m.getHeader().isSetField(tag))
    return m.getHeader().getField(tag);
  return "";
}

// Recorder keeps every application message received per session and lets the
// scenario wait for a particular one.
class Recorder : public FIX::Application {
public:
  typedef std::function<bool(const FIX::Message &)> Pred;

  void onCreate(const FIX::SessionID &) override {}

  void onLogon(const FIX::SessionID &id) override {
    std::lock_guard<std::mutex> lock(mu_);
    print("LOGON " + id.getSenderCompID().getValue());
    loggedOn_.insert(id.getSenderCompID().getValue());
    cv_.notify_all();
  }

  void onLogout(const FIX::SessionID &id) override {
    std::lock_guard<std::mutex> lock(mu_);
    print("LOGOUT " + id.getSenderCompID().getValue());
    loggedOn_.erase(id.getSenderCompID().getValue());
    cv_.notify_all();
  }

  // toAdmin puts the dev credentials on the Logon: 553 Username is the
  // CompID, 554 Password the CompID in lower case. 141=Y comes from
  // ResetOnLogon=Y in the settings.
  void toAdmin(FIX::Message &m, const FIX::SessionID &id) override {
    if (field(m, FIX::FIELD::MsgType) != "A")
      return;
    const std::string comp = id.getSenderCompID().getValue();
    m.setField(FIX::Username(comp));
    m.setField(FIX::Password(lower(comp)));
  }

  void toApp(FIX::Message &, const FIX::SessionID &)
      throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message &m, const FIX::SessionID &id)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
            FIX::IncorrectTagValue, FIX::RejectLogon) override {
    std::lock_guard<std::mutex> lock(mu_);
    print("ADMIN " + id.getSenderCompID().getValue() + " " + raw(m));
  }

  void fromApp(const FIX::Message &m, const FIX::SessionID &id)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
            FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string comp = id.getSenderCompID().getValue();
    print("APP " + comp + " " + raw(m));
    got_[comp].push_back(m);
    cv_.notify_all();
  }

  // mark returns how many messages comp has received so far; waitFor looks
  // only at messages after a mark.
  size_t mark(const std::string &comp) {
    std::lock_guard<std::mutex> lock(mu_);
    return got_[comp].size();
  }

  // waitFor waits until comp has received, after from, a message for which
  // pred holds.
  bool waitFor(const std::string &comp, size_t from, const Pred &pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kAnswerTimeout, [&] {
      const std::vector<FIX::Message> &ms = got_[comp];
      for (size_t i = from; i < ms.size(); i++)
        if (pred(ms[i]))
          return true;
      return false;
    });
  }

  // waitLoggedOn waits until comp is (want=true) or is not logged on.
  bool waitLoggedOn(const std::string &comp, bool want,
                    std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout,
                        [&] { return (loggedOn_.count(comp) > 0) == want; });
  }

  void say(const std::string &line) {
    std::lock_guard<std::mutex> lock(mu_);
    print(line);
  }

private:
  static std::string raw(const FIX::Message &m) {
    std::string s = m.toString();
    std::replace(s.begin(), s.end(), '\x01', '|');
    return s;
  }

  // print writes one line; callers hold mu_ so lines never interleave.
  static void print(const std::string &line) {
    std::cout << line << std::endl;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<FIX::Message>> got_;
  std::set<std::string> loggedOn_;
};

FIX::SessionID sessionOf(const std::string &comp) {
  return FIX::SessionID("FIX.4.4", comp, "VENUE");
}

FIX::TransactTime now() { return FIX::TransactTime(FIX::UtcTimeStamp(), 3); }

// newLimit is a GTC limit NewOrderSingle; qty and px are decimal strings.
FIX44::NewOrderSingle newLimit(const std::string &clOrdID, char side,
                               const std::string &qty, const std::string &px) {
  FIX44::NewOrderSingle m(FIX::ClOrdID(clOrdID), FIX::Side(side), now(),
                          FIX::OrdType(FIX::OrdType_LIMIT));
  m.setField(FIX::Symbol(kSymbol));
  m.setField(FIX::FIELD::OrderQty, qty);
  m.setField(FIX::FIELD::Price, px);
  m.setField(FIX::TimeInForce(FIX::TimeInForce_GOOD_TILL_CANCEL));
  return m;
}

FIX44::OrderCancelReplaceRequest replaceLimit(const std::string &orig,
                                              const std::string &clOrdID,
                                              char side, const std::string &qty,
                                              const std::string &px) {
  FIX44::OrderCancelReplaceRequest m(FIX::OrigClOrdID(orig),
                                     FIX::ClOrdID(clOrdID), FIX::Side(side),
                                     now(), FIX::OrdType(FIX::OrdType_LIMIT));
  m.setField(FIX::Symbol(kSymbol));
  m.setField(FIX::FIELD::OrderQty, qty);
  m.setField(FIX::FIELD::Price, px);
  m.setField(FIX::TimeInForce(FIX::TimeInForce_GOOD_TILL_CANCEL));
  return m;
}

FIX44::OrderCancelRequest cancel(const std::string &orig,
                                 const std::string &clOrdID, char side) {
  FIX44::OrderCancelRequest m(FIX::OrigClOrdID(orig), FIX::ClOrdID(clOrdID),
                              FIX::Side(side), now());
  m.setField(FIX::Symbol(kSymbol));
  return m;
}

FIX44::OrderStatusRequest status(const std::string &clOrdID, char side) {
  FIX44::OrderStatusRequest m{FIX::ClOrdID(clOrdID), FIX::Side(side)};
  m.setField(FIX::Symbol(kSymbol));
  return m;
}

// answers matches the first answer to the request clOrdID: an
// ExecutionReport or an OrderCancelReject carrying that 11.
Recorder::Pred answers(const std::string &clOrdID) {
  return [clOrdID](const FIX::Message &m) {
    const std::string t = field(m, FIX::FIELD::MsgType);
    return (t == "8" || t == "9") && field(m, FIX::FIELD::ClOrdID) == clOrdID;
  };
}

// settles matches an ExecutionReport for clOrdID that is more than an ack:
// a fill, a reject or a terminal state.
Recorder::Pred settles(const std::string &clOrdID) {
  return [clOrdID](const FIX::Message &m) {
    return field(m, FIX::FIELD::MsgType) == "8" &&
           field(m, FIX::FIELD::ClOrdID) == clOrdID &&
           field(m, FIX::FIELD::ExecType) != "0";
  };
}

// anyExecutionReport matches any ExecutionReport.
bool anyExecutionReport(const FIX::Message &m) {
  return field(m, FIX::FIELD::MsgType) == "8";
}

class Scenario {
public:
  explicit Scenario(Recorder &rec) : rec_(rec) {}

  void step(const std::string &name) {
    step_ = name;
    rec_.say("STEP " + name);
  }

  size_t mark(const std::string &comp) { return rec_.mark(comp); }

  void send(const std::string &comp, FIX::Message m) {
    if (!FIX::Session::sendToTarget(m, sessionOf(comp)))
      rec_.say("TIMEOUT " + step_ + " send-" + comp);
  }

  void expect(const std::string &comp, size_t from, const Recorder::Pred &pred,
              const std::string &what) {
    if (!rec_.waitFor(comp, from, pred)) {
      rec_.say("TIMEOUT " + step_ + " " + comp + " " + what);
      timeouts_++;
    }
  }

  void expectLoggedOn(const std::string &comp, bool want) {
    if (!rec_.waitLoggedOn(comp, want, std::chrono::seconds(10))) {
      rec_.say("TIMEOUT " + step_ + " " + comp +
               (want ? " logon" : " logout"));
      timeouts_++;
    }
  }

  int timeouts() const { return timeouts_; }

private:
  Recorder &rec_;
  std::string step_;
  int timeouts_ = 0;
};

void run(Scenario &s) {
  const std::string A = "FIRM_A", B = "FIRM_B";

  s.step("logon");
  s.expectLoggedOn(A, true);
  s.expectLoggedOn(B, true);
  if (s.timeouts() > 0)
    return; // nothing to trade on; the test reports the failed logon

  s.step("new");
  size_t a = s.mark(A);
  s.send(A, newLimit("A-1", FIX::Side_BUY, "0.0100", "59000.00"));
  s.expect(A, a, answers("A-1"), "answer to A-1");

  s.step("replace");
  a = s.mark(A);
  s.send(A, replaceLimit("A-1", "A-2", FIX::Side_BUY, "0.0200", "59000.00"));
  s.expect(A, a, answers("A-2"), "answer to A-2");

  s.step("cancel_unknown");
  a = s.mark(A);
  s.send(A, cancel("NO-SUCH-ORDER", "A-3", FIX::Side_BUY));
  s.expect(A, a, answers("A-3"), "answer to A-3");

  // FIRM_B may not touch FIRM_A's order: it looks unknown.
  s.step("cancel_other_firm");
  a = s.mark(A);
  size_t b = s.mark(B);
  s.send(B, cancel("A-2", "B-0", FIX::Side_BUY));
  s.expect(B, b, answers("B-0"), "answer to B-0");

  s.step("duplicate_clordid");
  a = s.mark(A);
  s.send(A, newLimit("A-1", FIX::Side_BUY, "0.0100", "59000.00"));
  s.expect(A, a, answers("A-1"), "answer to the second A-1");

  s.step("status");
  a = s.mark(A);
  s.send(A, status("A-2", FIX::Side_BUY));
  s.expect(A, a, answers("A-2"), "status of A-2");

  s.step("cross");
  a = s.mark(A);
  b = s.mark(B);
  s.send(B, newLimit("B-1", FIX::Side_SELL, "0.0050", "59000.00"));
  s.expect(B, b, settles("B-1"), "fill of B-1");
  s.expect(A, a, anyExecutionReport, "fill of A-2");

  s.step("cancel_rest");
  a = s.mark(A);
  s.send(A, cancel("A-2", "A-4", FIX::Side_BUY));
  s.expect(A, a, answers("A-4"), "answer to A-4");

  s.step("off_tick");
  a = s.mark(A);
  s.send(A, newLimit("A-5", FIX::Side_BUY, "0.0100", "59000.001"));
  s.expect(A, a, answers("A-5"), "answer to A-5");

  // Anything unasked for that is still on its way lands before the logout.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  s.step("logout");
  FIX::Session::lookupSession(sessionOf(A))->logout("interop scenario done");
  FIX::Session::lookupSession(sessionOf(B))->logout("interop scenario done");
  s.expectLoggedOn(A, false);
  s.expectLoggedOn(B, false);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " SETTINGS_FILE" << std::endl;
    return 2;
  }
  try {
    FIX::SessionSettings settings(argv[1]);
    Recorder rec;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::SocketInitiator initiator(rec, store, settings, log);
    initiator.start();
    Scenario s(rec);
    run(s);
    initiator.stop();
    rec.say("DONE " + std::to_string(s.timeouts()));
    return s.timeouts() == 0 ? 0 : 1;
  } catch (std::exception &e) {
    std::cerr << "client: " << e.what() << std::endl;
    return 2;
  }
}
