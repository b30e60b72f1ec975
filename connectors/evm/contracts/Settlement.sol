// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ITransferRules} from "./ITransferRules.sol";

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
/// exactly one verdict, settled or failed, and keeps it (tradeStatus); the trades a transaction
/// settles are named by one TradesSettled per status word. A trade id seen before is skipped
/// (TradeSkipped) and moves nothing. Only an unauthorized caller or packed data that does not
/// parse reverts the batch.
///
/// Hash-locked legs (lockLegs, claimLegs, refundLegs) carry one side of a trade whose other side
/// settles on another ledger: the leg's amount leaves its giver's balance into a lock under the
/// SHA-256 hash of a secret, then reaches its taker (less its fee, to the fee account) when
/// anyone shows the secret before the lock's expiry, or returns to its giver when anyone asks
/// after it. Each trade id has one leg here and keeps its state: locked, claimed, refunded, or
/// refused at the lock with a reason.
///
/// Trades arrive packed (settlePacked): each account of a batch once in a table, trades naming
/// buyer and seller by their index in it, in groups that share a security and a cash token. Per
/// group the security's rules are asked once for all its trades (canTransferPacked), and each
/// balance is read from storage once and written once.
contract Settlement is Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// The balances a batch moves, in memory by account table entry: each read from storage at
    /// its account's first trade in a group of the batch and written back once at the group's end.
    struct Book {
        /// Entries in the account table.
        uint256 accounts;
        /// Calldata: the table's addresses, ACCOUNT_BYTES each.
        uint256 table;
        /// The fee account.
        address fee;
        /// Memory: per table entry, ENTRY_BYTES: the group that loaded it, its security and cash
        /// balances, their storage slots. After them an entry for the fee account, used only if
        /// it is not in the table.
        uint256 entries;
        /// Memory: the fee account's cash balance in its entry (its slot two words on).
        uint256 feeCash;
        /// Memory: the entries loaded in the current group, a word each, `loadedCount` of them.
        uint256 loaded;
        uint256 loadedCount;
        /// The current group, counted from 1: an entry loaded in another is stale.
        uint256 group;
        /// The base slots in `_balances` of the group's security and cash.
        uint256 securityMap;
        uint256 cashMap;
    }

    /// The status word of trade ids in hand (ids of a batch are mostly consecutive): its index,
    /// its bits, and a bit per id this transaction settled in it (TradesSettled).
    struct Status {
        uint256 word;
        uint256 bits;
        uint256 settled;
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

    /// Packed layout (settlePacked), big-endian, no padding: an account table, [count 2] then
    /// `count` addresses [account 20] in strictly ascending order; then groups, each a header
    /// [security 20][cash 20][count 2] followed by `count` (1 to 65,535) trades of
    /// [tradeId 8][buyer 2][seller 2][quantity 16][cashAmount 16][fee 16], buyer and seller
    /// indexes into the table.
    uint256 private constant TABLE_HEADER_BYTES = 2;
    uint256 private constant ACCOUNT_BYTES = 20;
    uint256 private constant GROUP_HEADER_BYTES = 42;
    uint256 private constant PACKED_TRADE_BYTES = 60;
    /// A table entry on the book: [group][security][cash][security slot][cash slot].
    uint256 private constant ENTRY_BYTES = 5 * 32;
    /// canTransferPacked's transfer, the bytes 8 to 27 of a packed trade: [to 2][from 2][amount 16].
    uint256 private constant TRANSFER_BYTES = 20;

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
    /// The trades this transaction settled among ids `word * 128` to `word * 128 + 127`: bit k
    /// set for id `word * 128 + k`. One event per status word in a row of a batch's ids.
    event TradesSettled(uint256 indexed word, uint256 bits);
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
    /// settlePacked: the data is not an account table and whole groups of trades; `offset` is the
    /// byte of the data where it goes wrong (the table, an account out of order, a group that is
    /// empty or runs past the end, a trade naming an account beyond the table).
    error BadPackedData(uint256 offset);
    /// depositFor: the security's rules refuse `account` (the reason is the token's, e.g. TO_FROZEN).
    error DepositRefused(address token, address account, bytes32 reason);
    /// A security's rule check failed with no more gas left than a call leaves its caller (1/64):
    /// it may have run out of gas rather than refused, so the whole transaction reverts instead
    /// of failing trades for good (NOT_A_SECURITY) on too low a gas limit. Send it with more gas.
    error RuleCheckOutOfGas(address token);

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

    /// @notice Settles each trade of a packed batch (layout above and in docs/evm-contracts.md)
    /// or reports why not (see the failure policy above). Reverts BadPackedData if `data` is not
    /// an account table and whole groups of trades that name accounts in it.
    function settlePacked(bytes calldata data) external onlyOperator {
        (uint256 groups, uint256 largest) = _layout(data);
        Book memory book = _book(data, feeAccount);
        (uint256 ask, uint256 transfers) = _askFor(data, groups, largest);
        Status memory status = Status(type(uint256).max, 0, 0);
        uint256 start;
        assembly ("memory-safe") {
            start := data.offset
        }
        // Unchecked: offsets in calldata, which _layout walked, and a count of groups.
        unchecked {
            uint256 end = start + data.length;
            for (uint256 p = start + groups; p < end;) {
                address security;
                address cash;
                uint256 count;
                assembly ("memory-safe") {
                    security := shr(96, calldataload(p))
                    cash := shr(96, calldataload(add(p, 20)))
                    count := shr(240, calldataload(add(p, 40)))
                }
                uint256 first = p + GROUP_HEADER_BYTES; // the group's first trade
                book.group += 1; // what the group before loaded is stale from here on
                book.securityMap = _mapOf(security);
                book.cashMap = _mapOf(cash);
                _prepare(book, first, count, transfers, start);
                (bytes32 rule, uint256 refusals) = _ask(security, cash, ask, transfers, first, count);
                _settleGroup(book, status, first, count, rule, refusals);
                _writeBack(book);
                p = first + count * PACKED_TRADE_BYTES;
            }
        }
        _putBack(status.word, status.bits, status.settled);
    }

    /// Checks the packed layout before anything is read, so the loops need no bounds checks: the
    /// byte offset of the first group, and the largest group's count. The account table's order
    /// is checked as it is read (_book), each trade's account indexes with its group (_prepare).
    function _layout(bytes calldata data) private pure returns (uint256 groups, uint256 largest) {
        bytes4 bad = BadPackedData.selector;
        assembly ("memory-safe") {
            function fail(selector, offset) {
                mstore(0x00, selector)
                mstore(0x04, offset)
                revert(0x00, 0x24)
            }
            let end := data.length
            if lt(end, TABLE_HEADER_BYTES) { fail(bad, 0) }
            groups := add(TABLE_HEADER_BYTES, mul(shr(240, calldataload(data.offset)), ACCOUNT_BYTES))
            if gt(groups, end) { fail(bad, 0) }
            for { let group := groups } lt(group, end) {} {
                if lt(sub(end, group), GROUP_HEADER_BYTES) { fail(bad, group) }
                let n := shr(240, calldataload(add(data.offset, add(group, 40)))) // the header's count
                let next := add(group, add(GROUP_HEADER_BYTES, mul(n, PACKED_TRADE_BYTES)))
                if or(iszero(n), gt(next, end)) { fail(bad, group) }
                if gt(n, largest) { largest := n }
                group := next
            }
        }
    }

    /// The book of a batch: the account table checked (in ascending order, else BadPackedData
    /// at the one out of order) and an entry for each account and one for the fee account;
    /// the fee account's cash is that of its table entry if it has one.
    function _book(bytes calldata data, address fees) private pure returns (Book memory book) {
        uint256 table;
        uint256 n;
        assembly ("memory-safe") {
            table := add(data.offset, TABLE_HEADER_BYTES)
            n := shr(240, calldataload(data.offset))
        }
        uint256 fee = n; // the fee account's entry
        uint256 least = 0; // the least the next account may be
        unchecked {
            for (uint256 i = 0; i < n; ++i) {
                uint256 account = _account(table, i);
                if (account < least) revert BadPackedData(TABLE_HEADER_BYTES + i * ACCOUNT_BYTES);
                least = account + 1;
                if (account == uint160(fees)) fee = i;
            }
            book.entries = _alloc((n + 1) * ENTRY_BYTES);
            book.feeCash = book.entries + fee * ENTRY_BYTES + 0x40;
        }
        book.loaded = _reserve(n * 32);
        book.accounts = n;
        book.table = table;
        book.fee = fees;
    }

    /// Account `i` of the table at calldata offset `table`.
    function _account(uint256 table, uint256 i) private pure returns (uint256 account) {
        assembly ("memory-safe") {
            account := shr(96, calldataload(add(table, mul(i, ACCOUNT_BYTES))))
        }
    }

    /// The rule check's call (canTransferPacked) of a batch, in memory at `ask`, built once with
    /// the table in it; each group writes its transfers at `transfers` (20 bytes each, their
    /// length the word before) and asks. The call: selector, the offsets of `wallets` and
    /// `transfers`, `wallets` (the account table as it is in `data`, its first `groups` bytes),
    /// then `transfers`' length and room for the largest group's transfers (and the 12 bytes the
    /// last one's word writes past them).
    function _askFor(bytes calldata data, uint256 groups, uint256 largest)
        private
        pure
        returns (uint256 ask, uint256 transfers)
    {
        uint256 padded;
        unchecked {
            // Sizes of parts of calldata: no overflow.
            padded = (groups + 31) & ~uint256(31);
            ask = _reserve(4 + 0x60 + padded + 0x20 + largest * TRANSFER_BYTES + 12);
            transfers = ask + 4 + 0x60 + padded + 0x20;
        }
        bytes4 selector = ITransferRules.canTransferPacked.selector;
        assembly ("memory-safe") {
            mstore(ask, selector)
            mstore(add(ask, 0x04), 0x40)
            mstore(add(ask, 0x24), add(0x60, padded))
            mstore(add(ask, 0x44), groups)
            calldatacopy(add(ask, 0x64), data.offset, groups)
        }
    }

    /// Before a group settles, one pass over its `count` packed trades at `p`: writes each
    /// one's transfer for the rule check at `transfers`, and loads into the book both balances
    /// of its buyer and its seller (and the fee account's cash), so that settling is arithmetic
    /// in memory. A trade naming an account beyond the table reverts BadPackedData at its offset
    /// in the data (which starts at calldata offset `base`).
    function _prepare(Book memory book, uint256 p, uint256 count, uint256 transfers, uint256 base) private view {
        uint256 accounts = book.accounts;
        uint256 table = book.table;
        address fees = book.fee;
        uint256 entries = book.entries;
        uint256 loaded = book.loaded;
        uint256 group = book.group;
        uint256 securityMap = book.securityMap;
        uint256 cashMap = book.cashMap;
        uint256 feeCash = book.feeCash;
        uint256 n = 0;
        bytes4 bad = BadPackedData.selector;
        assembly ("memory-safe") {
            // Entry `e` of `account`, loaded: the group, both balances and their slots.
            function load(e, account, group_, securityMap_, cashMap_) {
                mstore(e, group_)
                mstore(0x00, account)
                mstore(0x20, securityMap_)
                let slot := keccak256(0x00, 0x40)
                mstore(add(e, 0x20), sload(slot))
                mstore(add(e, 0x60), slot)
                mstore(0x20, cashMap_)
                slot := keccak256(0x00, 0x40)
                mstore(add(e, 0x40), sload(slot))
                mstore(add(e, 0x80), slot)
            }
            // The fee account's cash (and slot), untagged: if the fee account also trades in the
            // group its entry is loaded below, reading the same value again.
            mstore(0x00, fees)
            mstore(0x20, cashMap)
            let feeSlot := keccak256(0x00, 0x40)
            mstore(feeCash, sload(feeSlot))
            mstore(add(feeCash, 0x40), feeSlot)
            // Counting down: with the end as the bound the compiler read the count from calldata
            // again each turn.
            for { let left := count } left { left := sub(left, 1) } {
                // A trade's bytes 8 to 27, [buyer 2][seller 2][quantity 16], are as they are the
                // token's transfer [to 2][from 2][amount 16]: the seller sends to the buyer. The
                // 12 bytes the word writes past them are the next transfer's place.
                let w := calldataload(add(p, 8))
                mstore(transfers, w)
                transfers := add(transfers, TRANSFER_BYTES)
                let buyer := shr(240, w)
                let seller := and(shr(224, w), 0xffff)
                if iszero(and(lt(buyer, accounts), lt(seller, accounts))) {
                    mstore(0x00, bad)
                    mstore(0x04, sub(p, base))
                    revert(0x00, 0x24)
                }
                // An account trading in the group has both its balances loaded, so one tag says so.
                let e := add(entries, mul(buyer, ENTRY_BYTES))
                if iszero(eq(mload(e), group)) {
                    load(e, shr(96, calldataload(add(table, mul(buyer, ACCOUNT_BYTES)))), group, securityMap, cashMap)
                    mstore(add(loaded, shl(5, n)), e)
                    n := add(n, 1)
                }
                e := add(entries, mul(seller, ENTRY_BYTES))
                if iszero(eq(mload(e), group)) {
                    load(e, shr(96, calldataload(add(table, mul(seller, ACCOUNT_BYTES)))), group, securityMap, cashMap)
                    mstore(add(loaded, shl(5, n)), e)
                    n := add(n, 1)
                }
                p := add(p, PACKED_TRADE_BYTES)
            }
        }
        book.loadedCount = n;
    }

    /// Asks `security` its rules for the `count` trades at `p` (their transfers written by
    /// _prepare) with canTransferPacked. Returns the rule for all the group's trades: 0 if the
    /// security answered, BAD_TRADE if it is also the cash, NOT_A_SECURITY if it does not answer
    /// (a plain ERC-20, no contract at all, an answer of the wrong shape). And `refusals`: its
    /// refusals as pairs [trade's calldata offset][reason] in trade order, then a 0 (none if the
    /// rule is not 0).
    function _ask(address security, address cash, uint256 ask, uint256 transfers, uint256 p, uint256 count)
        private
        view
        returns (bytes32 rule, uint256 refusals)
    {
        bytes32 refused = REFUSED;
        bool ok;
        if (security != cash) {
            uint256 before = gasleft();
            assembly ("memory-safe") {
                let length := mul(count, TRANSFER_BYTES)
                mstore(sub(transfers, 0x20), length)
                ok := staticcall(gas(), security, ask, add(sub(transfers, ask), length), 0, 0)
            }
            _notOutOfGas(ok, before, security);
        }
        assembly ("memory-safe") {
            // The answer, (uint256, bytes32)[]: [0x20][m] then m pairs [index][reason], m at
            // most count; in memory from the free pointer, with a 0 after it.
            let answer := mload(0x40)
            let size := returndatasize()
            if or(lt(size, 0x40), gt(size, add(0x40, shl(6, count)))) { ok := 0 }
            let m := 0
            if ok {
                returndatacopy(answer, 0, size)
                m := mload(add(answer, 0x20))
                ok := and(eq(mload(answer), 0x20), and(iszero(gt(m, count)), eq(size, add(0x40, shl(6, m)))))
            }
            if ok {
                // Each refusal's index, strictly ascending and below count, becomes its trade's
                // offset, which _settleGroup meets in its walk; a reason of 0 is REFUSED.
                let next := 0 // the least the next index may be
                for { let r := add(answer, 0x40) } lt(r, add(answer, add(0x40, shl(6, m)))) { r := add(r, 0x40) } {
                    let i := mload(r)
                    if or(lt(i, next), iszero(lt(i, count))) {
                        ok := 0
                        break
                    }
                    next := add(i, 1)
                    mstore(r, add(p, mul(i, PACKED_TRADE_BYTES)))
                    if iszero(mload(add(r, 0x20))) { mstore(add(r, 0x20), refused) }
                }
            }
            if iszero(ok) { m := 0 }
            refusals := add(answer, 0x40)
            let last := add(refusals, shl(6, m))
            mstore(last, 0) // no trade is at calldata offset 0
            mstore(0x40, add(last, 0x20))
        }
        if (security == cash) return (BAD_TRADE, refusals);
        return (ok ? bytes32(0) : NOT_A_SECURITY, refusals);
    }

    /// Settles the `count` packed trades of a group at `p`, in order, on the book (_prepare
    /// loaded their balances). Per trade: a trade id seen before is skipped (TradeSkipped); else
    /// a bad shape (no quantity, a fee above the amount) fails it with BAD_TRADE, then `rule` if
    /// not 0 (the same for every trade of the group) or its refusal (the next pair at
    /// `refusal`, if it names this trade), then the seller's security and the buyer's cash
    /// (TradeFailed); else it moves and is settled.
    function _settleGroup(
        Book memory book,
        Status memory status,
        uint256 p,
        uint256 count,
        bytes32 rule,
        uint256 refusal
    ) private {
        uint256 entries = book.entries;
        uint256 feeCash = book.feeCash;
        // The status word in hand, on the stack for the loop.
        uint256 word = status.word;
        uint256 bits = status.bits;
        uint256 settled = status.settled;
        // Unchecked: offsets of trades in calldata, which _layout walked. Counting down: with
        // the end as the bound the compiler read the count from calldata again each turn.
        unchecked {
            for (uint256 left = count; left != 0; --left) {
                uint256 at_ = p; // this trade
                p += PACKED_TRADE_BYTES;
                uint256 id;
                bytes32 reason = rule;
                assembly ("memory-safe") {
                    id := shr(192, calldataload(at_))
                    // The token's refusal of this trade if the next one names it (in trade order).
                    if eq(mload(refusal), at_) {
                        if iszero(reason) { reason := mload(add(refusal, 0x20)) }
                        refusal := add(refusal, 0x40)
                    }
                }
                if (id >> 7 != word) {
                    _putBack(word, bits, settled);
                    word = id >> 7;
                    bits = _status[word];
                    settled = 0;
                }
                uint256 shift = (id & 127) << 1;
                uint256 prior = (bits >> shift) & 3;
                if (prior != UNSEEN) {
                    emit TradeSkipped(id, prior == SETTLED ? ALREADY_SETTLED : ALREADY_FAILED);
                    continue;
                }
                reason = _move(entries, feeCash, at_, reason);
                if (reason == 0) {
                    bits |= uint256(SETTLED) << shift;
                    settled |= 1 << (shift >> 1);
                } else {
                    bits |= uint256(FAILED) << shift;
                    emit TradeFailed(id, reason);
                }
            }
        }
        status.word = word;
        status.bits = bits;
        status.settled = settled;
    }

    /// Settles the packed trade at `p` on the book, or says why not: BAD_TRADE for a bad shape,
    /// else `reason` if not 0 (the rules'), else INSUFFICIENT_SECURITY or INSUFFICIENT_CASH; 0
    /// once its five moves are made.
    function _move(uint256 entries, uint256 feeCash, uint256 p, bytes32 reason) private pure returns (bytes32 why) {
        bytes32 badTrade = BAD_TRADE;
        bytes32 shortSecurity = INSUFFICIENT_SECURITY;
        bytes32 shortCash = INSUFFICIENT_CASH;
        // One assembly block: Solidity would set each variable to 0 first.
        assembly ("memory-safe") {
            let w := calldataload(add(p, 8)) // [buyer 2][seller 2][quantity 16][...]
            let quantity := and(shr(96, w), 0xffffffffffffffffffffffffffffffff)
            let amount := shr(128, calldataload(add(p, 28)))
            let fee := shr(128, calldataload(add(p, 44)))
            why := reason
            if or(iszero(quantity), gt(fee, amount)) { why := badTrade }
            if iszero(why) {
                // An entry's security balance at 0x20, its cash at 0x40.
                let buyer := add(entries, mul(shr(240, w), ENTRY_BYTES))
                let seller := add(entries, mul(and(shr(224, w), 0xffff), ENTRY_BYTES))
                let sellerSecurity := mload(add(seller, 0x20))
                let buyerCash := mload(add(buyer, 0x40))
                if lt(buyerCash, amount) { why := shortCash }
                if lt(sellerSecurity, quantity) { why := shortSecurity }
                if iszero(why) {
                    // Each credit reads its balance after the debits, so a self-trade or the
                    // fee account trading comes out right. A token's ledger entries sum to what
                    // the escrow received: no credit overflows.
                    mstore(add(seller, 0x20), sub(sellerSecurity, quantity))
                    mstore(add(buyer, 0x20), add(mload(add(buyer, 0x20)), quantity))
                    mstore(add(buyer, 0x40), sub(buyerCash, amount))
                    mstore(add(seller, 0x40), add(mload(add(seller, 0x40)), sub(amount, fee)))
                    mstore(feeCash, add(mload(feeCash), fee))
                }
            }
        }
    }

    /// Writes both balances of each entry the group loaded back to storage, then the fee
    /// account's cash (again, if it traded: the same value), once.
    function _writeBack(Book memory book) private {
        uint256 loaded = book.loaded;
        uint256 feeCash = book.feeCash;
        uint256 end = loaded + book.loadedCount * 32;
        assembly ("memory-safe") {
            for {} lt(loaded, end) { loaded := add(loaded, 0x20) } {
                let e := mload(loaded)
                sstore(mload(add(e, 0x60)), mload(add(e, 0x20)))
                sstore(mload(add(e, 0x80)), mload(add(e, 0x40)))
            }
            sstore(mload(add(feeCash, 0x40)), mload(feeCash))
        }
        book.loadedCount = 0;
    }

    /// Stores status word `word` (none if type(uint256).max) with its bits, with one
    /// TradesSettled for the trades this transaction settled in it.
    function _putBack(uint256 word, uint256 bits, uint256 settled) private {
        if (word == type(uint256).max) return;
        _status[word] = bits;
        if (settled != 0) emit TradesSettled(word, settled);
    }

    /// The base slot of `token`'s balances in `_balances`, as Solidity lays out nested mappings.
    function _mapOf(address token) private pure returns (uint256 map) {
        assembly ("memory-safe") {
            mstore(0x00, token)
            mstore(0x20, _balances.slot)
            map := keccak256(0x00, 0x40)
        }
    }

    /// `bytes_` of zeroed memory.
    function _alloc(uint256 bytes_) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(0x40, add(ptr, bytes_))
            calldatacopy(ptr, calldatasize(), bytes_) // past the end of calldata: zeros
        }
    }

    /// `bytes_` of memory, not cleared: for what is written before it is read.
    function _reserve(uint256 bytes_) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(0x40, add(ptr, bytes_))
        }
    }

    /// What `token`'s ERC-3643 rules say of `from` sending `amount` to `to`: 0 if allowed, else
    /// the reason; NOT_A_SECURITY if the token does not answer canTransfer (a plain ERC-20, or
    /// no contract at all: a call there returns nothing to decode, which try/catch cannot catch).
    function _rules(address token, address from, address to, uint256 amount) private view returns (bytes32) {
        if (token.code.length == 0) return NOT_A_SECURITY;
        uint256 before = gasleft();
        try ITransferRules(token).canTransfer(from, to, amount) returns (bool ok, bytes32 why) {
            if (!ok) return why == 0 ? REFUSED : why;
        } catch {
            _notOutOfGas(false, before, token);
            return NOT_A_SECURITY;
        }
        return 0;
    }

    /// Reverts RuleCheckOutOfGas if a rule call to `token` that began with `before` gas failed
    /// (`ok` false) leaving no more than the 1/64 a call keeps for its caller: out of gas, as far
    /// as anyone can tell, not the token's answer.
    function _notOutOfGas(bool ok, uint256 before, address token) private view {
        if (!ok && gasleft() <= before / 64) revert RuleCheckOutOfGas(token);
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
