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
/// ledger of who holds what. The exchange's operator settles matched trades in batches by moving
/// ledger balances: security seller to buyer, cash buyer to seller, the fee to the fee account,
/// all or nothing per trade. Moving ledger entries instead of tokens keeps a trade at a few
/// storage writes. Before a trade moves, the security's ERC-3643 rules are asked as if the
/// seller transferred to the buyer (paused, frozen wallets, unverified buyer), so the ledger
/// never lets a security reach a wallet the token itself would refuse.
///
/// Failure policy: a trade that cannot settle is reported (TradeFailed with a reason) and the
/// rest of the batch settles, so one frozen wallet cannot hold a whole batch. Each trade id gets
/// exactly one verdict, settled or failed, and keeps it: a trade id seen before is skipped
/// (TradeSkipped) and moves nothing. Only an unauthorized caller reverts the batch.
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

    /// Verdicts kept per trade id (`tradeStatus`).
    uint8 public constant UNSEEN = 0;
    uint8 public constant SETTLED = 1;
    uint8 public constant FAILED = 2;

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

    address public operator;
    address public feeAccount;
    mapping(address token => mapping(address account => uint256)) private _balances;
    /// Two bits per trade id, 128 ids per slot, so a batch of consecutive ids writes a slot once.
    mapping(uint256 word => uint256 bits) private _status;

    event Deposited(address indexed account, address indexed token, uint256 amount);
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    event TradeSettled(uint256 indexed tradeId);
    event TradeFailed(uint256 indexed tradeId, bytes32 reason);
    event TradeSkipped(uint256 indexed tradeId, bytes32 reason);
    event OperatorSet(address indexed operator);
    event FeeAccountSet(address indexed feeAccount);

    error NotOperator(address caller);
    error ZeroAddress();
    error ZeroAmount();
    error InsufficientBalance(address token, address account, uint256 balance, uint256 needed);

    /// Balances a netted batch has read, by storage slot: an open-addressing table in memory.
    struct Cache {
        uint256 mask;
        bytes32[] slots;
        uint256[] values;
        uint256[] used;
        uint256 count;
    }

    constructor(address initialOwner, address operator_, address feeAccount_) Ownable(initialOwner) {
        _setOperator(operator_);
        _setFeeAccount(feeAccount_);
    }

    function setOperator(address operator_) external onlyOwner {
        _setOperator(operator_);
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
        if (amount == 0) revert ZeroAmount();
        _balances[token][msg.sender] += amount;
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(msg.sender, token, amount);
    }

    /// @notice Sends escrowed `amount` of `token` back to the caller's wallet; the token's rules
    /// apply (a frozen or unverified wallet cannot take a security out).
    function withdraw(address token, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 balance = _balances[token][msg.sender];
        if (balance < amount) revert InsufficientBalance(token, msg.sender, balance, amount);
        unchecked {
            _balances[token][msg.sender] = balance - amount;
        }
        IERC20(token).safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, token, amount);
    }

    /// @notice Settles each trade or reports why not (see the failure policy above). With
    /// `netting`, every balance the batch touches is read once and written once at the end;
    /// the outcome is the same as without (and on today's EVM it costs more gas, see the docs).
    function settleBatch(Trade[] calldata trades, bool netting) external {
        if (msg.sender != operator) revert NotOperator(msg.sender);
        address fees = feeAccount;
        Cache memory cache;
        if (netting) cache = _newCache(trades.length);
        // The status word in hand; ids of one batch are mostly consecutive.
        uint256 word = type(uint256).max;
        uint256 bits;
        for (uint256 i = 0; i < trades.length; ++i) {
            Trade calldata t = trades[i];
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

    /// The trade's shape and the security's transfer rules; 0 if both allow it.
    function _check(Trade calldata t) private view returns (bytes32) {
        if (t.quantity == 0 || t.fee > t.cashAmount || t.security == t.cash) return BAD_TRADE;
        try ITransferRules(t.security).canTransfer(t.seller, t.buyer, t.quantity) returns (
            bool ok,
            bytes32 why
        ) {
            if (!ok) return why == 0 ? REFUSED : why;
        } catch {
            return NOT_A_SECURITY;
        }
        return 0;
    }

    function _settle(Trade calldata t, address fees) private returns (bytes32 reason) {
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

    function _settleNetted(Trade calldata t, address fees, Cache memory c)
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

    function _setOperator(address operator_) private {
        if (operator_ == address(0)) revert ZeroAddress();
        operator = operator_;
        emit OperatorSet(operator_);
    }

    function _setFeeAccount(address feeAccount_) private {
        if (feeAccount_ == address(0)) revert ZeroAddress();
        feeAccount = feeAccount_;
        emit FeeAccountSet(feeAccount_);
    }
}
