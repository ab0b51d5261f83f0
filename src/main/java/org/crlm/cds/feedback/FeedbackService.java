package org.crlm.cds.feedback;

import java.util.ArrayList;
import java.util.List;
import org.crlm.cds.cdshooks.InvalidHookRequestException;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Stores feedback linked to the rule and rule version that produced each card. All items are
 * checked first; one unknown card or bad item refuses the whole request and stores nothing.
 * A repeated item (same card, outcome and time) is stored once.
 */
@Service
public class FeedbackService {

    /** What a feedback call stored. */
    public record Result(int stored, int duplicates) {}

    private final IssuedCardStore cards;
    private final FeedbackRepository feedback;
    private final TransactionTemplate transactions;
    private final ApplicationEventPublisher events;

    public FeedbackService(
            IssuedCardStore cards,
            FeedbackRepository feedback,
            TransactionTemplate transactions,
            ApplicationEventPublisher events) {
        this.cards = cards;
        this.feedback = feedback;
        this.transactions = transactions;
        this.events = events;
    }

    public Result record(String serviceId, List<FeedbackItem> items) {
        List<IssuedCardStore.StoredCard> matched = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            FeedbackItem item = items.get(i);
            String field = "feedback[" + i + "].card";
            IssuedCardStore.StoredCard card = cards.find(item.card())
                    .orElseThrow(() -> new InvalidHookRequestException(
                            field, "Unknown card uuid: no card with this uuid was issued by this service"));
            if (!card.serviceId().equals(serviceId)) {
                throw new InvalidHookRequestException(
                        "feedback[" + i + "].card", "This card was issued by another service");
            }
            matched.add(card);
        }
        int[] counts = new int[2];
        transactions.executeWithoutResult(status -> {
            for (int i = 0; i < items.size(); i++) {
                FeedbackItem item = items.get(i);
                if (feedback.exists(item.card(), item.outcome(), item.outcomeTimestamp())) {
                    counts[1]++;
                    continue;
                }
                feedback.insert(matched.get(i), item);
                counts[0]++;
            }
        });
        for (int i = 0; i < items.size(); i++) {
            IssuedCardStore.StoredCard card = matched.get(i);
            events.publishEvent(new FeedbackRecordedEvent(
                    serviceId,
                    card.ruleId(),
                    card.libraryVersion(),
                    items.get(i).outcome()));
        }
        return new Result(counts[0], counts[1]);
    }
}
