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

    /// canTransfer for many transfers at once: each one's reason, 0 if allowed.
    function canTransferBatch(address[] calldata from, address[] calldata to, uint256[] calldata amounts)
        external
        view
        returns (bytes32[] memory reasons);
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
/// group the security's rules are asked once for all its trades (canTransferBatch), and each
/// balance is read from storage once and written once.
contract Settlement is Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// The balances a batch moves, in memory by account table entry: each read from storage at
    /// its first use in a group of the batch and written back once at the group's end.
    struct Book {
        /// Entries in the account table.
        uint256 accounts;
        /// The fee account's entry: its index in the table, or `accounts` (an entry after them).
        uint256 fee;
        /// Memory: the table's addresses, then the fee account's, a word each.
        uint256 addresses;
        /// Memory: per entry, its security balance then its cash balance, BALANCE_BYTES each.
        uint256 balances;
        /// Memory: the balances loaded in the current group, a word each, `loadedCount` of them.
        uint256 loaded;
        uint256 loadedCount;
        /// The current group, counted from 1: a balance loaded in another is stale.
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
    /// canTransferBatch's call before its elements: selector, three offsets, three lengths.
    uint256 private constant RULES_CALL_BYTES = 4 + 6 * 32;
    /// A balance on the book: the group that loaded it, its storage slot, its value.
    uint256 private constant BALANCE_BYTES = 3 * 32;
    uint256 private constant SECURITY_LEG = 0;
    uint256 private constant CASH_LEG = 1;

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
        // Room for the rule check of the largest group: its call's arguments, then its answer.
        uint256 ask = _alloc(RULES_CALL_BYTES + 3 * 32 * largest);
        Status memory status = Status(type(uint256).max, 0, 0);
        uint256 start;
        assembly ("memory-safe") {
            start := data.offset
        }
        uint256 end = start + data.length;
        for (uint256 p = start + groups; p < end;) {
            address security;
            address cash;
            uint256 count;
            assembly ("memory-safe") {
                security := shr(96, calldataload(p))
                cash := shr(96, calldataload(add(p, 20)))
                count := shr(240, calldataload(add(p, 40)))
                p := add(p, GROUP_HEADER_BYTES)
            }
            book.group += 1; // what the group before loaded is stale from here on
            book.securityMap = _mapOf(security);
            book.cashMap = _mapOf(cash);
            uint256 length = _prepare(book, p, count, ask, start);
            bytes32 rule = security == cash ? BAD_TRADE : _ask(security, ask, length, count);
            _settleGroup(book, status, p, count, rule, ask + 0x40);
            _writeBack(book);
            unchecked {
                p += count * PACKED_TRADE_BYTES;
            }
        }
        _putBack(status);
    }

    /// Checks the packed layout before anything is read, so the loops need no bounds checks: the
    /// byte offset of the first group, and the largest group's count. The account table's order
    /// is checked as it is read (_book), each trade's account indexes with its group (_prepare).
    function _layout(bytes calldata data) private pure returns (uint256 groups, uint256 largest) {
        uint256 end = data.length;
        if (end < TABLE_HEADER_BYTES) revert BadPackedData(0);
        groups = TABLE_HEADER_BYTES + uint256(uint16(bytes2(data[0:2]))) * ACCOUNT_BYTES;
        if (groups > end) revert BadPackedData(0);
        uint256 group = groups;
        while (group < end) {
            if (end - group < GROUP_HEADER_BYTES) revert BadPackedData(group);
            uint256 n = uint16(bytes2(data[group + 40:group + 42])); // the header's count
            uint256 next = group + GROUP_HEADER_BYTES + n * PACKED_TRADE_BYTES;
            if (n == 0 || next > end) revert BadPackedData(group);
            if (n > largest) largest = n;
            group = next;
        }
    }

    /// The book of a batch: the account table's addresses (in ascending order, else
    /// BadPackedData at the one out of order), the fee account after them unless it is one of
    /// them, and room for two balances of each.
    function _book(bytes calldata data, address fees) private pure returns (Book memory book) {
        uint256 n = uint16(bytes2(data[0:2]));
        book.fee = n;
        book.addresses = _alloc((n + 1) * 32);
        book.balances = _alloc((n + 1) * 2 * BALANCE_BYTES);
        book.loaded = _alloc((n + 1) * 2 * 32);
        uint256 least = 0; // the least the next account may be
        for (uint256 i = 0; i < n; ++i) {
            uint256 at_ = TABLE_HEADER_BYTES + i * ACCOUNT_BYTES;
            uint256 account = uint160(bytes20(data[at_:at_ + ACCOUNT_BYTES]));
            if (account < least) revert BadPackedData(at_);
            least = account + 1;
            if (account == uint160(fees)) book.fee = i;
            _store(book.addresses + i * 32, account);
        }
        _store(book.addresses + n * 32, uint160(fees));
        book.accounts = n;
    }

    /// Before a group settles: writes at `ask` the call canTransferBatch(sellers, buyers,
    /// quantities) of its `count` packed trades at `p` and returns its length; loads into the
    /// book every balance they may move (both legs of buyer and seller, the fee account's cash),
    /// so that settling them is arithmetic in memory. A trade naming an account beyond the table
    /// reverts BadPackedData at its offset in the data (which starts at calldata offset `base`).
    function _prepare(Book memory book, uint256 p, uint256 count, uint256 ask, uint256 base)
        private
        view
        returns (uint256 length)
    {
        // Three arrays after the selector and their offsets, `stride` apart: each a length word,
        // then its elements.
        uint256 stride = 32 + count * 32;
        length = 4 + 0x60 + 3 * stride;
        bytes4 selector = ITransferRules.canTransferBatch.selector;
        bytes4 bad = BadPackedData.selector;
        uint256 accounts = book.accounts;
        uint256 addresses = book.addresses;
        _load(book, book.fee, CASH_LEG);
        assembly ("memory-safe") {
            mstore(ask, selector)
            mstore(add(ask, 4), 0x60)
            mstore(add(ask, 0x24), add(0x60, stride))
            mstore(add(ask, 0x44), add(0x60, shl(1, stride)))
            let from := add(ask, 0x64)
            mstore(from, count)
            mstore(add(from, stride), count)
            mstore(add(from, shl(1, stride)), count)
            for { let k := 0 } lt(k, count) { k := add(k, 1) } {
                let t := add(p, mul(k, PACKED_TRADE_BYTES))
                let buyer := shr(240, calldataload(add(t, 8)))
                let seller := shr(240, calldataload(add(t, 10)))
                if iszero(and(lt(buyer, accounts), lt(seller, accounts))) {
                    mstore(0, bad)
                    mstore(4, sub(t, base))
                    revert(0, 0x24)
                }
                let e := add(from, shl(5, add(k, 1)))
                mstore(e, mload(add(addresses, shl(5, seller))))
                mstore(add(e, stride), mload(add(addresses, shl(5, buyer))))
                mstore(add(e, shl(1, stride)), shr(128, calldataload(add(t, 12))))
            }
        }
        _loadAll(book, p, count);
    }

    /// Loads into the book both balances of the buyer and the seller of each of the `count`
    /// packed trades at `p` (see _load).
    function _loadAll(Book memory book, uint256 p, uint256 count) private view {
        uint256 balances = book.balances;
        uint256 addresses = book.addresses;
        uint256 group = book.group;
        uint256 securityMap = book.securityMap;
        uint256 cashMap = book.cashMap;
        assembly ("memory-safe") {
            // _load's work once the book has not this group's value: `entry`'s balance at `ptr`
            function load(b, ptr, account, map) {
                mstore(0x00, account)
                mstore(0x20, map)
                let slot := keccak256(0x00, 0x40)
                mstore(ptr, mload(add(b, 0xc0))) // Book.group
                mstore(add(ptr, 0x20), slot)
                mstore(add(ptr, 0x40), sload(slot))
                let n := mload(add(b, 0xa0)) // Book.loadedCount
                mstore(add(mload(add(b, 0x80)), shl(5, n)), ptr) // Book.loaded
                mstore(add(b, 0xa0), add(n, 1))
            }
            for { let end := add(p, mul(count, PACKED_TRADE_BYTES)) } lt(p, end) { p := add(p, PACKED_TRADE_BYTES) } {
                // an entry's security balance, then its cash balance, BALANCE_BYTES each
                let entry := shr(240, calldataload(add(p, 8))) // the buyer
                let ptr := add(balances, mul(entry, 0xc0))
                let account := mload(add(addresses, shl(5, entry)))
                if iszero(eq(mload(ptr), group)) { load(book, ptr, account, securityMap) }
                ptr := add(ptr, 0x60)
                if iszero(eq(mload(ptr), group)) { load(book, ptr, account, cashMap) }
                entry := shr(240, calldataload(add(p, 10))) // the seller
                ptr := add(balances, mul(entry, 0xc0))
                account := mload(add(addresses, shl(5, entry)))
                if iszero(eq(mload(ptr), group)) { load(book, ptr, account, securityMap) }
                ptr := add(ptr, 0x60)
                if iszero(eq(mload(ptr), group)) { load(book, ptr, account, cashMap) }
            }
        }
    }

    /// Asks a security its rules with the canTransferBatch call of `length` bytes at `ask`
    /// (_prepare), whose answer replaces it there: reasons from `ask + 0x40`, a word per trade
    /// (0 if allowed). Returns 0 if the security answered, else NOT_A_SECURITY for all its
    /// trades (a plain ERC-20, no contract at all, an answer of the wrong shape).
    function _ask(address security, uint256 ask, uint256 length, uint256 count) private view returns (bytes32) {
        bool ok;
        uint256 answer = 0x40 + count * 32; // the offset and length words, then the reasons
        assembly ("memory-safe") {
            ok := staticcall(gas(), security, ask, length, 0, 0)
            if lt(returndatasize(), answer) { ok := 0 }
            if ok {
                returndatacopy(ask, 0, answer)
                ok := and(eq(mload(ask), 0x20), eq(mload(add(ask, 0x20)), count))
            }
        }
        return ok ? bytes32(0) : NOT_A_SECURITY;
    }

    /// Loads account `entry`'s balance on `leg` (SECURITY_LEG, CASH_LEG) into the book, unless
    /// the group loaded it already, and lists it for _writeBack. A balance on the book is three
    /// words: the group that loaded it, its storage slot, its value.
    function _load(Book memory book, uint256 entry, uint256 leg) private view {
        uint256 ptr = book.balances + (entry * 2 + leg) * BALANCE_BYTES;
        uint256 group = book.group;
        bool loaded;
        assembly ("memory-safe") {
            loaded := eq(mload(ptr), group)
        }
        if (loaded) return;
        uint256 account = _word(book.addresses, entry);
        uint256 map = leg == SECURITY_LEG ? book.securityMap : book.cashMap;
        assembly ("memory-safe") {
            mstore(0x00, account)
            mstore(0x20, map)
            let slot := keccak256(0x00, 0x40)
            mstore(ptr, group)
            mstore(add(ptr, 0x20), slot)
            mstore(add(ptr, 0x40), sload(slot))
        }
        _store(book.loaded + book.loadedCount * 32, ptr);
        book.loadedCount += 1;
    }

    /// Settles the `count` packed trades of a group at `p`, in order, on the book (_prepare
    /// loaded their balances). Per trade: a trade id seen before is skipped (TradeSkipped); else
    /// a bad shape (no quantity, a fee above the amount) fails it with BAD_TRADE, then `rule` if
    /// not 0 (the same for every trade of the group) or its own reason at `reasons`, then the
    /// seller's security and the buyer's cash (TradeFailed); else it moves and is settled.
    function _settleGroup(
        Book memory book,
        Status memory status,
        uint256 p,
        uint256 count,
        bytes32 rule,
        uint256 reasons
    ) private {
        uint256 balances = book.balances;
        uint256 feeCash = _value(balances, book.fee, CASH_LEG);
        uint256 end = p + count * PACKED_TRADE_BYTES;
        for (; p < end; p += PACKED_TRADE_BYTES) {
            uint256 id;
            uint256 quantity;
            uint256 amount;
            uint256 fee;
            assembly ("memory-safe") {
                id := shr(192, calldataload(p))
                quantity := shr(128, calldataload(add(p, 12)))
                amount := shr(128, calldataload(add(p, 28)))
                fee := shr(128, calldataload(add(p, 44)))
            }
            bytes32 reason = rule;
            if (reason == 0) reason = bytes32(_word(reasons, 0));
            unchecked {
                reasons += 32;
            }
            if (id >> 7 != status.word) _inHand(status, id >> 7);
            uint256 shift = (id & 127) << 1;
            uint256 prior = (status.bits >> shift) & 3;
            if (prior != UNSEEN) {
                emit TradeSkipped(id, prior == SETTLED ? ALREADY_SETTLED : ALREADY_FAILED);
                continue;
            }
            if (quantity == 0 || fee > amount) reason = BAD_TRADE;
            if (reason == 0) {
                uint256 short;
                assembly ("memory-safe") {
                    // values: the third word of a balance; an entry's cash balance after its security's
                    let buyer := add(balances, add(mul(shr(240, calldataload(add(p, 8))), 0xc0), 0x40))
                    let seller := add(balances, add(mul(shr(240, calldataload(add(p, 10))), 0xc0), 0x40))
                    let sellerSecurity := mload(seller)
                    let buyerCash := mload(add(buyer, 0x60))
                    short := or(lt(sellerSecurity, quantity), shl(1, lt(buyerCash, amount)))
                    if iszero(short) {
                        // A token's ledger entries sum to what the escrow received: no credit overflows.
                        mstore(seller, sub(sellerSecurity, quantity))
                        mstore(buyer, add(mload(buyer), quantity))
                        mstore(add(buyer, 0x60), sub(buyerCash, amount))
                        mstore(add(seller, 0x60), add(mload(add(seller, 0x60)), sub(amount, fee)))
                        mstore(feeCash, add(mload(feeCash), fee))
                    }
                }
                if (short != 0) reason = short & 1 != 0 ? INSUFFICIENT_SECURITY : INSUFFICIENT_CASH;
            }
            if (reason == 0) {
                status.bits |= uint256(SETTLED) << shift;
                status.settled |= 1 << (shift >> 1);
            } else {
                status.bits |= uint256(FAILED) << shift;
                emit TradeFailed(id, reason);
            }
        }
    }

    /// Writes each balance the group loaded back to storage, once.
    function _writeBack(Book memory book) private {
        uint256 loaded = book.loaded;
        for (uint256 i = 0; i < book.loadedCount; ++i) {
            uint256 ptr = _word(loaded, i);
            assembly ("memory-safe") {
                sstore(mload(add(ptr, 0x20)), mload(add(ptr, 0x40)))
            }
        }
        book.loadedCount = 0;
    }

    /// Makes status word `word` the one in hand, putting the one before back.
    function _inHand(Status memory status, uint256 word) private {
        _putBack(status);
        status.word = word;
        status.bits = _status[word];
        status.settled = 0;
    }

    /// Stores the status word in hand, with one TradesSettled for the trades this transaction
    /// settled in it.
    function _putBack(Status memory status) private {
        uint256 word = status.word;
        if (word == type(uint256).max) return;
        _status[word] = status.bits;
        if (status.settled != 0) emit TradesSettled(word, status.settled);
    }

    /// The base slot of `token`'s balances in `_balances`, as Solidity lays out nested mappings.
    function _mapOf(address token) private pure returns (uint256 map) {
        assembly ("memory-safe") {
            mstore(0x00, token)
            mstore(0x20, _balances.slot)
            map := keccak256(0x00, 0x40)
        }
    }

    /// The memory address of the value of account `entry`'s balance on `leg` on the book.
    function _value(uint256 balances, uint256 entry, uint256 leg) private pure returns (uint256) {
        unchecked {
            return balances + (entry * 2 + leg) * BALANCE_BYTES + 0x40;
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

    /// The `k`th word from memory address `ptr`.
    function _word(uint256 ptr, uint256 k) private pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := mload(add(ptr, shl(5, k)))
        }
    }

    function _store(uint256 ptr, uint256 value) private pure {
        assembly ("memory-safe") {
            mstore(ptr, value)
        }
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
