// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// The ERC-3643 rule check Settlement asks of a security token (SecurityToken implements it).
interface ITransferRules {
    function canTransfer(address from, address to, uint256 amount)
        external
        view
        returns (bool ok, bytes32 reason);
}

/// @title Settlement: delivery versus payment on an escrow ledger.
/// @notice Investors deposit security and cash tokens into this escrow, which keeps its own
/// ledger of who holds what. Funds leave it only through the exchange: an investor asks the
/// exchange for a withdrawal, the exchange takes it from the balance that open orders do not
/// reserve, and its operator releases it here by withdrawal id (`releaseBatch`), once; an
/// investor cannot take escrowed funds out by itself, so nothing the exchange holds for open
/// orders can leave behind its back. The exchange's operator settles matched trades in batches by moving
/// ledger balances: security seller to buyer, cash buyer to seller, the fee to the fee account,
/// all or nothing per trade. Moving ledger entries instead of tokens keeps a trade at a few
/// storage writes. Before a trade moves, the security's ERC-3643 rules are asked as if the
/// seller transferred to the buyer (paused, frozen wallets, unverified buyer), so the ledger
/// never lets a security reach a wallet the token itself would refuse.
///
/// Failure policy: a trade that cannot settle is reported (TradeFailed with a reason) and the
/// rest of the batch settles, so one frozen wallet cannot hold a whole batch. Each trade id gets
/// exactly one verdict, settled or failed, and keeps it: a trade id seen before is skipped
/// (TradeSkipped) and moves nothing. Only an unauthorized caller (or, for settlePacked, data
/// that is not whole groups of trades) reverts the batch.
///
/// Hash-locked legs (lockLegs, claimLegs, refundLegs) carry one side of a trade whose other side
/// settles on another ledger: the leg's amount leaves its giver's balance into a lock under the
/// SHA-256 hash of a secret, then reaches its taker (less its fee, to the fee account) when
/// anyone shows the secret before the lock's expiry, or returns to its giver when anyone asks
/// after it. Each trade id has one leg here and keeps its state: locked, claimed, refunded, or
/// refused at the lock with a reason.
///
/// Two entry points feed the same settlement loop: settleBatch takes ABI-encoded Trade structs
/// (self-describing, for tools), settlePacked the same trades packed into groups that share a
/// security and a cash token (a third of the calldata, for the daemon: less to encode, sign and
/// pay for).
contract Settlement is Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// One matched trade. The buyer pays `cashAmount` (fee included), the seller receives
    /// `cashAmount - fee` and the fee account `fee`.
    struct Trade {
        uint256 tradeId;
        address security;
        address cash;
        address buyer;
        address seller;
        uint256 quantity;
        uint256 cashAmount;
        uint256 fee;
    }

    /// Where a batch's next trade is read from: a calldata offset, and for packed data the trades
    /// left in the current group (0: a group header comes next).
    struct Reader {
        uint256 cursor;
        uint256 groupLeft;
    }

    /// One withdrawal the exchange has granted: `amount` of `token` from `account`'s escrow
    /// balance to `account`'s wallet.
    struct Withdrawal {
        uint256 withdrawalId;
        address account;
        address token;
        uint256 amount;
    }

    /// One hash-locked leg: `amount` of `token` from `from` to `to`, `fee` of it to the fee
    /// account, claimable with the secret whose SHA-256 is `hashlock` until `expiry` (a block
    /// timestamp, seconds), refundable from then on. `security`: `token` is a security, whose
    /// transfer rules are asked as if `from` sent to `to` when it is locked.
    struct Leg {
        uint256 tradeId;
        address token;
        address from;
        address to;
        uint256 amount;
        uint256 fee;
        bytes32 hashlock;
        uint64 expiry;
        bool security;
    }

    /// Packed layout (settlePacked), big-endian, no padding: groups, each a header
    /// [security 20][cash 20][count 2] followed by `count` (1 to 65,535) trades of
    /// [tradeId 8][buyer 20][seller 20][quantity 16][cashAmount 16][fee 16].
    uint256 private constant GROUP_HEADER_BYTES = 42;
    uint256 private constant PACKED_TRADE_BYTES = 96;

    /// Verdicts kept per trade id (`tradeStatus`).
    uint8 public constant UNSEEN = 0;
    uint8 public constant SETTLED = 1;
    uint8 public constant FAILED = 2;

    /// Verdicts kept per withdrawal id (`withdrawalStatus`), besides UNSEEN.
    uint8 public constant RELEASED = 1;
    uint8 public constant RELEASE_REFUSED = 2;

    /// States of a leg (`legState`), besides UNSEEN.
    uint8 public constant LOCKED = 1;
    uint8 public constant CLAIMED = 2;
    uint8 public constant REFUNDED = 3;
    uint8 public constant LOCK_REFUSED = 4;

    /// Reasons of LegRefused (besides INSUFFICIENT_BALANCE and the security's own) and LegSkipped.
    bytes32 public constant BAD_LEG = "BAD_LEG";
    bytes32 public constant ALREADY_LOCKED = "ALREADY_LOCKED";
    bytes32 public constant NOT_LOCKED = "NOT_LOCKED";
    bytes32 public constant WRONG_TERMS = "WRONG_TERMS";
    bytes32 public constant WRONG_SECRET = "WRONG_SECRET";
    bytes32 public constant EXPIRED = "EXPIRED";
    bytes32 public constant NOT_EXPIRED = "NOT_EXPIRED";
    bytes32 public constant ALREADY_CLAIMED = "ALREADY_CLAIMED";
    bytes32 public constant ALREADY_REFUNDED = "ALREADY_REFUNDED";

    /// Reasons of TradeSkipped.
    bytes32 public constant ALREADY_SETTLED = "ALREADY_SETTLED";
    bytes32 public constant ALREADY_FAILED = "ALREADY_FAILED";
    /// Reasons of TradeFailed, besides the security's own (PAUSED, FROM_FROZEN, TO_FROZEN,
    /// TO_NOT_VERIFIED).
    bytes32 public constant BAD_TRADE = "BAD_TRADE";
    bytes32 public constant NOT_A_SECURITY = "NOT_A_SECURITY";
    bytes32 public constant REFUSED = "REFUSED";
    bytes32 public constant INSUFFICIENT_SECURITY = "INSUFFICIENT_SECURITY";
    bytes32 public constant INSUFFICIENT_CASH = "INSUFFICIENT_CASH";
    /// Reasons of WithdrawalSkipped and WithdrawalRefused (besides the security's own, as for a trade).
    bytes32 public constant ALREADY_RELEASED = "ALREADY_RELEASED";
    bytes32 public constant ALREADY_REFUSED = "ALREADY_REFUSED";
    bytes32 public constant BAD_WITHDRAWAL = "BAD_WITHDRAWAL";
    bytes32 public constant INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE";
    bytes32 public constant TRANSFER_FAILED = "TRANSFER_FAILED";

    /// Who may settle: each settlement daemon signs with its own key (its own nonces).
    mapping(address account => bool) public isOperator;
    address public feeAccount;
    mapping(address token => mapping(address account => uint256)) private _balances;
    /// Two bits per trade id, 128 ids per slot, so a batch of consecutive ids writes a slot once.
    mapping(uint256 word => uint256 bits) private _status;
    /// A verdict per withdrawal id: UNSEEN, RELEASED or RELEASE_REFUSED.
    mapping(uint256 withdrawalId => uint8) public withdrawalStatus;
    /// Per trade id, its leg: while locked the keccak256 of its terms (one slot, whatever their
    /// size; claim and refund show them again), then its final state (CLAIMED, REFUNDED,
    /// LOCK_REFUSED) as a small number.
    mapping(uint256 tradeId => bytes32) private _legs;

    event Deposited(address indexed account, address indexed token, uint256 amount);
    event WithdrawalReleased(
        uint256 indexed withdrawalId, address indexed account, address indexed token, uint256 amount
    );
    event WithdrawalRefused(uint256 indexed withdrawalId, bytes32 reason);
    event WithdrawalSkipped(uint256 indexed withdrawalId, bytes32 reason);
    event TradeSettled(uint256 indexed tradeId);
    event TradeFailed(uint256 indexed tradeId, bytes32 reason);
    event TradeSkipped(uint256 indexed tradeId, bytes32 reason);
    event LegLocked(
        uint256 indexed tradeId,
        bytes32 indexed hashlock,
        address token,
        address from,
        address to,
        uint256 amount,
        uint256 fee,
        uint64 expiry,
        bool security
    );
    event LegRefused(uint256 indexed tradeId, bytes32 reason);
    event LegClaimed(uint256 indexed tradeId, bytes32 secret);
    event LegRefunded(uint256 indexed tradeId);
    event LegSkipped(uint256 indexed tradeId, bytes32 reason);
    event OperatorSet(address indexed operator, bool allowed);
    event FeeAccountSet(address indexed feeAccount);

    error NotOperator(address caller);
    error ZeroAddress();
    error ZeroAmount();
    /// claimLegs: one secret per leg.
    error SecretsMismatch(uint256 legs, uint256 secrets);
    /// settlePacked: the group starting at byte `offset` of the data is empty or runs past its end.
    error BadPackedData(uint256 offset);
    /// depositFor: the security's rules refuse `account` (the reason is the token's, e.g. TO_FROZEN).
    error DepositRefused(address token, address account, bytes32 reason);

    /// Balances a netted batch has read, by storage slot: an open-addressing table in memory.
    struct Cache {
        uint256 mask;
        bytes32[] slots;
        uint256[] values;
        uint256[] used;
        uint256 count;
    }

    modifier onlyOperator() {
        if (!isOperator[msg.sender]) revert NotOperator(msg.sender);
        _;
    }

    constructor(address initialOwner, address operator_, address feeAccount_) Ownable(initialOwner) {
        _setOperator(operator_, true);
        _setFeeAccount(feeAccount_);
    }

    /// Allows (or stops) `operator_` to settle.
    function setOperator(address operator_, bool allowed) external onlyOwner {
        _setOperator(operator_, allowed);
    }

    function setFeeAccount(address feeAccount_) external onlyOwner {
        _setFeeAccount(feeAccount_);
    }

    function balanceOf(address token, address account) external view returns (uint256) {
        return _balances[token][account];
    }

    function tradeStatus(uint256 tradeId) external view returns (uint8) {
        return uint8((_status[tradeId >> 7] >> ((tradeId & 127) << 1)) & 3);
    }

    /// @notice Moves `amount` of `token` from the caller's wallet into escrow (approve first).
    /// A security token applies its rules: the escrow must be a verified wallet.
    function deposit(address token, uint256 amount) external nonReentrant {
        _deposit(msg.sender, token, amount);
    }

    /// @notice Moves `amount` of `token` from the caller's wallet into `account`'s escrow balance
    /// (approve first): a faucet or custodian funding an investor. Emits Deposited for `account`.
    /// For a security, the token's rules are asked as if the caller sent to `account`, so no one
    /// can credit a security to a wallet the token would refuse (DepositRefused).
    function depositFor(address account, address token, uint256 amount) external nonReentrant {
        if (account == address(0)) revert ZeroAddress();
        _deposit(account, token, amount);
    }

    /// @notice Releases withdrawals the exchange has granted, each from the account's escrow
    /// balance to the account's wallet, or refuses it with a reason while the rest go on: a zero
    /// amount or account (BAD_WITHDRAWAL), an escrow balance short of it (INSUFFICIENT_BALANCE),
    /// the security's rules as if the escrow sent it (TO_FROZEN, TO_NOT_VERIFIED, PAUSED, ...),
    /// or a token transfer that fails (TRANSFER_FAILED). Each withdrawal id gets one verdict and
    /// keeps it: an id seen before is skipped (WithdrawalSkipped) and moves nothing, so a batch
    /// sent again after a crash releases nothing twice. Operators only.
    function releaseBatch(Withdrawal[] calldata withdrawals) external onlyOperator nonReentrant {
        for (uint256 i = 0; i < withdrawals.length; ++i) {
            Withdrawal calldata w = withdrawals[i];
            uint256 id = w.withdrawalId;
            uint8 prior = withdrawalStatus[id];
            if (prior != UNSEEN) {
                emit WithdrawalSkipped(id, prior == RELEASED ? ALREADY_RELEASED : ALREADY_REFUSED);
                continue;
            }
            bytes32 reason = _release(w.account, w.token, w.amount);
            if (reason == 0) {
                withdrawalStatus[id] = RELEASED;
                emit WithdrawalReleased(id, w.account, w.token, w.amount);
            } else {
                withdrawalStatus[id] = RELEASE_REFUSED;
                emit WithdrawalRefused(id, reason);
            }
        }
    }

    /// The state of trade `tradeId`'s leg: UNSEEN, LOCKED, CLAIMED, REFUNDED or LOCK_REFUSED.
    function legState(uint256 tradeId) external view returns (uint8) {
        bytes32 v = _legs[tradeId];
        return uint256(v) <= LOCK_REFUSED ? uint8(uint256(v)) : LOCKED;
    }

    /// @notice Locks each leg, or refuses it with a reason while the rest go on: bad terms
    /// (BAD_LEG: no amount, a fee above it, no giver or taker, an expiry already past), the
    /// giver's balance short of it (INSUFFICIENT_BALANCE), a security's rules as if the giver
    /// sent it to the taker (TO_FROZEN, TO_NOT_VERIFIED, PAUSED, ...). A trade id seen before is
    /// skipped (LegSkipped, ALREADY_LOCKED) and locks nothing. Operators only.
    function lockLegs(Leg[] calldata legs) external onlyOperator nonReentrant {
        for (uint256 i = 0; i < legs.length; ++i) {
            Leg calldata leg = legs[i];
            uint256 id = leg.tradeId;
            if (_legs[id] != 0) {
                emit LegSkipped(id, ALREADY_LOCKED);
                continue;
            }
            bytes32 reason = _lockable(leg);
            if (reason != 0) {
                _legs[id] = bytes32(uint256(LOCK_REFUSED));
                emit LegRefused(id, reason);
                continue;
            }
            unchecked {
                _balances[leg.token][leg.from] -= leg.amount; // _lockable checked the balance
            }
            _legs[id] = keccak256(abi.encode(leg));
            emit LegLocked(
                id, leg.hashlock, leg.token, leg.from, leg.to, leg.amount, leg.fee, leg.expiry, leg.security
            );
        }
    }

    /// @notice Claims each locked leg with its secret (`secrets[i]` for `legs[i]`, whose terms
    /// are the ones it was locked with): its amount reaches its taker, its fee the fee account.
    /// Anyone may claim (the secret is the authority); a leg not locked with these terms, a
    /// wrong secret or an expiry reached is skipped with the reason and moves nothing.
    function claimLegs(Leg[] calldata legs, bytes32[] calldata secrets) external nonReentrant {
        if (legs.length != secrets.length) revert SecretsMismatch(legs.length, secrets.length);
        address fees = feeAccount;
        for (uint256 i = 0; i < legs.length; ++i) {
            Leg calldata leg = legs[i];
            bytes32 why = _locked(leg);
            if (why == 0 && sha256(abi.encodePacked(secrets[i])) != leg.hashlock) why = WRONG_SECRET;
            if (why == 0 && block.timestamp >= leg.expiry) why = EXPIRED;
            if (why != 0) {
                emit LegSkipped(leg.tradeId, why);
                continue;
            }
            _legs[leg.tradeId] = bytes32(uint256(CLAIMED));
            unchecked {
                _balances[leg.token][leg.to] += leg.amount - leg.fee;
                if (leg.fee != 0) _balances[leg.token][fees] += leg.fee;
            }
            emit LegClaimed(leg.tradeId, secrets[i]);
        }
    }

    /// @notice Returns each locked leg whose expiry has come to its giver. Anyone may ask; a leg
    /// not locked with these terms, or whose expiry has not come, is skipped with the reason.
    function refundLegs(Leg[] calldata legs) external nonReentrant {
        for (uint256 i = 0; i < legs.length; ++i) {
            Leg calldata leg = legs[i];
            bytes32 why = _locked(leg);
            if (why == 0 && block.timestamp < leg.expiry) why = NOT_EXPIRED;
            if (why != 0) {
                emit LegSkipped(leg.tradeId, why);
                continue;
            }
            _legs[leg.tradeId] = bytes32(uint256(REFUNDED));
            unchecked {
                _balances[leg.token][leg.from] += leg.amount;
            }
            emit LegRefunded(leg.tradeId);
        }
    }

    /// @notice Settles each trade or reports why not (see the failure policy above). With
    /// `netting`, every balance the batch touches is read once and written once at the end;
    /// the outcome is the same as without (and on today's EVM it costs more gas, see the docs).
    function settleBatch(Trade[] calldata trades, bool netting) external onlyOperator {
        uint256 start;
        assembly ("memory-safe") {
            start := trades.offset
        }
        _settleAll(trades.length, Reader(start, 0), _readAbi, netting);
    }

    /// @notice settleBatch with the trades packed (layout above and in docs/evm-contracts.md):
    /// the same verdicts, events and netting. Reverts BadPackedData if `data` is not whole groups.
    function settlePacked(bytes calldata data, bool netting) external onlyOperator {
        uint256 count = _countPacked(data);
        uint256 start;
        assembly ("memory-safe") {
            start := data.offset
        }
        _settleAll(count, Reader(start, 0), _readPacked, netting);
    }

    /// The settlement loop of both entry points: `read` fills `t` with each of the `count` trades
    /// in turn, which then gets its verdict (a trade id seen before is skipped).
    function _settleAll(
        uint256 count,
        Reader memory reader,
        function(Reader memory, Trade memory) pure read,
        bool netting
    ) private {
        address fees = feeAccount;
        Cache memory cache;
        if (netting) cache = _newCache(count);
        // One trade in memory, overwritten by each read: memory does not grow with the batch.
        Trade memory t;
        // The status word in hand; ids of one batch are mostly consecutive.
        uint256 word = type(uint256).max;
        uint256 bits;
        for (uint256 i = 0; i < count; ++i) {
            read(reader, t);
            uint256 id = t.tradeId;
            uint256 w = id >> 7;
            if (w != word) {
                if (word != type(uint256).max) _status[word] = bits;
                word = w;
                bits = _status[w];
            }
            uint256 shift = (id & 127) << 1;
            uint256 prior = (bits >> shift) & 3;
            if (prior != UNSEEN) {
                emit TradeSkipped(id, prior == SETTLED ? ALREADY_SETTLED : ALREADY_FAILED);
                continue;
            }
            bytes32 reason = netting ? _settleNetted(t, fees, cache) : _settle(t, fees);
            if (reason == 0) {
                bits |= uint256(SETTLED) << shift;
                emit TradeSettled(id);
            } else {
                bits |= uint256(FAILED) << shift;
                emit TradeFailed(id, reason);
            }
        }
        if (word != type(uint256).max) _status[word] = bits;
        if (netting) _flush(cache);
    }

    /// Reads the ABI-encoded Trade at the cursor: eight words in field order, copied whole.
    function _readAbi(Reader memory r, Trade memory t) private pure {
        uint256 p = r.cursor;
        assembly ("memory-safe") {
            calldatacopy(t, p, 0x100)
            // The ABI decoder refuses an address with bits set above its 160, and so do we.
            let security_cash := or(mload(add(t, 0x20)), mload(add(t, 0x40)))
            let buyer_seller := or(mload(add(t, 0x60)), mload(add(t, 0x80)))
            if shr(160, or(security_cash, buyer_seller)) { revert(0, 0) }
        }
        r.cursor = p + 0x100;
    }

    /// Reads the packed trade at the cursor, after its group's header if it is the group's first.
    /// Only called for trades _countPacked has seen whole, so it never reads past the data.
    function _readPacked(Reader memory r, Trade memory t) private pure {
        uint256 p = r.cursor;
        uint256 left = r.groupLeft;
        // Each field is the top bytes of a 32-byte load, shifted down; struct fields are 32 bytes
        // apart in memory in declaration order (tradeId at 0x00 ... fee at 0xe0).
        assembly ("memory-safe") {
            if iszero(left) {
                mstore(add(t, 0x20), shr(96, calldataload(p))) // security
                mstore(add(t, 0x40), shr(96, calldataload(add(p, 20)))) // cash
                left := shr(240, calldataload(add(p, 40))) // count
                p := add(p, GROUP_HEADER_BYTES)
            }
            mstore(t, shr(192, calldataload(p))) // tradeId
            mstore(add(t, 0x60), shr(96, calldataload(add(p, 8)))) // buyer
            mstore(add(t, 0x80), shr(96, calldataload(add(p, 28)))) // seller
            mstore(add(t, 0xa0), shr(128, calldataload(add(p, 48)))) // quantity
            mstore(add(t, 0xc0), shr(128, calldataload(add(p, 64)))) // cashAmount
            mstore(add(t, 0xe0), shr(128, calldataload(add(p, 80)))) // fee
        }
        unchecked {
            r.cursor = p + PACKED_TRADE_BYTES;
            r.groupLeft = left - 1; // a group has at least one trade (_countPacked)
        }
    }

    /// The number of trades in packed data, checked to be whole groups of whole trades before
    /// anything is read, so the loop needs no bounds checks.
    function _countPacked(bytes calldata data) private pure returns (uint256 count) {
        uint256 end = data.length;
        uint256 group = 0;
        while (group < end) {
            if (end - group < GROUP_HEADER_BYTES) revert BadPackedData(group);
            uint256 n = uint16(bytes2(data[group + 40:group + 42])); // the header's count
            uint256 next = group + GROUP_HEADER_BYTES + n * PACKED_TRADE_BYTES;
            if (n == 0 || next > end) revert BadPackedData(group);
            count += n;
            group = next;
        }
    }

    /// The trade's shape and the security's transfer rules; 0 if both allow it.
    function _check(Trade memory t) private view returns (bytes32) {
        if (t.quantity == 0 || t.fee > t.cashAmount || t.security == t.cash) return BAD_TRADE;
        return _rules(t.security, t.seller, t.buyer, t.quantity);
    }

    /// What `token`'s ERC-3643 rules say of `from` sending `amount` to `to`: 0 if allowed, else
    /// the reason; NOT_A_SECURITY if the token does not answer canTransfer (a plain ERC-20, or
    /// no contract at all: a call there returns nothing to decode, which try/catch cannot catch).
    function _rules(address token, address from, address to, uint256 amount) private view returns (bytes32) {
        if (token.code.length == 0) return NOT_A_SECURITY;
        try ITransferRules(token).canTransfer(from, to, amount) returns (bool ok, bytes32 why) {
            if (!ok) return why == 0 ? REFUSED : why;
        } catch {
            return NOT_A_SECURITY;
        }
        return 0;
    }

    /// Why a leg cannot be locked, or 0.
    function _lockable(Leg calldata leg) private view returns (bytes32) {
        if (
            leg.amount == 0 || leg.fee > leg.amount || leg.from == address(0) || leg.to == address(0)
                || leg.expiry <= block.timestamp
        ) return BAD_LEG;
        if (_balances[leg.token][leg.from] < leg.amount) return INSUFFICIENT_BALANCE;
        return leg.security ? _rules(leg.token, leg.from, leg.to, leg.amount) : bytes32(0);
    }

    /// Why a leg is not locked with these terms (NOT_LOCKED, WRONG_TERMS, or its final state), or 0.
    function _locked(Leg calldata leg) private view returns (bytes32) {
        bytes32 v = _legs[leg.tradeId];
        if (v == 0 || v == bytes32(uint256(LOCK_REFUSED))) return NOT_LOCKED;
        if (v == bytes32(uint256(CLAIMED))) return ALREADY_CLAIMED;
        if (v == bytes32(uint256(REFUNDED))) return ALREADY_REFUNDED;
        return v == keccak256(abi.encode(leg)) ? bytes32(0) : WRONG_TERMS;
    }

    /// Credits `account` with `amount` of `token` pulled from the caller (deposit and depositFor).
    function _deposit(address account, address token, uint256 amount) private {
        if (amount == 0) revert ZeroAmount();
        // Crediting someone else moves the token to them on this ledger: a security's rules
        // apply as if the caller sent it. Cash, a plain ERC-20, has none.
        if (account != msg.sender) {
            bytes32 why = _rules(token, msg.sender, account, amount);
            if (why != 0 && why != NOT_A_SECURITY) revert DepositRefused(token, account, why);
        }
        _balances[token][account] += amount;
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(account, token, amount);
    }

    /// Sends `amount` of `token` from `account`'s escrow balance to its wallet; 0, or why not
    /// (nothing moved then).
    function _release(address account, address token, uint256 amount) private returns (bytes32) {
        if (amount == 0 || account == address(0)) return BAD_WITHDRAWAL;
        uint256 balance = _balances[token][account];
        if (balance < amount) return INSUFFICIENT_BALANCE;
        bytes32 why = _rules(token, address(this), account, amount);
        if (why != 0 && why != NOT_A_SECURITY) return why;
        unchecked {
            _balances[token][account] = balance - amount;
        }
        if (!IERC20(token).trySafeTransfer(account, amount)) {
            _balances[token][account] = balance;
            return TRANSFER_FAILED;
        }
        return 0;
    }

    function _settle(Trade memory t, address fees) private returns (bytes32 reason) {
        reason = _check(t);
        if (reason != 0) return reason;
        mapping(address => uint256) storage sec = _balances[t.security];
        mapping(address => uint256) storage cash = _balances[t.cash];
        address buyer = t.buyer;
        address seller = t.seller;
        uint256 quantity = t.quantity;
        uint256 amount = t.cashAmount;
        uint256 fee = t.fee;
        uint256 sellerSecurity = sec[seller];
        if (sellerSecurity < quantity) return INSUFFICIENT_SECURITY;
        uint256 buyerCash = cash[buyer];
        if (buyerCash < amount) return INSUFFICIENT_CASH;
        // A token's ledger entries sum to what the escrow received, so credits cannot overflow.
        unchecked {
            sec[seller] = sellerSecurity - quantity;
            sec[buyer] += quantity;
            cash[buyer] = buyerCash - amount;
            cash[seller] += amount - fee;
            if (fee != 0) cash[fees] += fee;
        }
        return 0;
    }

    function _settleNetted(Trade memory t, address fees, Cache memory c)
        private
        view
        returns (bytes32 reason)
    {
        reason = _check(t);
        if (reason != 0) return reason;
        uint256 quantity = t.quantity;
        uint256 amount = t.cashAmount;
        uint256 fee = t.fee;
        uint256 sellerSecurity = _find(c, t.security, t.seller);
        if (c.values[sellerSecurity] < quantity) return INSUFFICIENT_SECURITY;
        uint256 buyerCash = _find(c, t.cash, t.buyer);
        if (c.values[buyerCash] < amount) return INSUFFICIENT_CASH;
        unchecked {
            c.values[sellerSecurity] -= quantity;
            c.values[_find(c, t.security, t.buyer)] += quantity;
            c.values[buyerCash] -= amount;
            c.values[_find(c, t.cash, t.seller)] += amount - fee;
            if (fee != 0) c.values[_find(c, t.cash, fees)] += fee;
        }
        return 0;
    }

    /// A table with room for every balance `n` trades can touch (five each) and always one
    /// empty entry, so probing ends.
    function _newCache(uint256 n) private pure returns (Cache memory c) {
        uint256 size = 8;
        while (size <= n * 5) size <<= 1;
        c.mask = size - 1;
        c.slots = new bytes32[](size);
        c.values = new uint256[](size);
        c.used = new uint256[](n * 5);
    }

    /// The table index of `token`'s balance of `account`, loading it on first use.
    function _find(Cache memory c, address token, address account) private view returns (uint256 i) {
        bytes32 slot = _slotOf(token, account);
        i = uint256(slot) & c.mask;
        while (true) {
            bytes32 s = c.slots[i];
            if (s == slot) return i;
            if (s == 0) break;
            i = (i + 1) & c.mask;
        }
        uint256 value;
        assembly ("memory-safe") {
            value := sload(slot)
        }
        c.slots[i] = slot;
        c.values[i] = value;
        c.used[c.count++] = i;
    }

    function _flush(Cache memory c) private {
        for (uint256 k = 0; k < c.count; ++k) {
            uint256 i = c.used[k];
            bytes32 slot = c.slots[i];
            uint256 value = c.values[i];
            assembly ("memory-safe") {
                sstore(slot, value)
            }
        }
    }

    /// The storage slot of `_balances[token][account]`, as Solidity lays out nested mappings.
    function _slotOf(address token, address account) private pure returns (bytes32 slot) {
        assembly ("memory-safe") {
            mstore(0x00, token)
            mstore(0x20, _balances.slot)
            mstore(0x20, keccak256(0x00, 0x40))
            mstore(0x00, account)
            slot := keccak256(0x00, 0x40)
        }
    }

    function _setOperator(address operator_, bool allowed) private {
        if (operator_ == address(0)) revert ZeroAddress();
        isOperator[operator_] = allowed;
        emit OperatorSet(operator_, allowed);
    }

    function _setFeeAccount(address feeAccount_) private {
        if (feeAccount_ == address(0)) revert ZeroAddress();
        feeAccount = feeAccount_;
        emit FeeAccountSet(feeAccount_);
    }
}
